"""Received quantities back to IP (DESIGN "Back to IP"): GRPOs against SAP POs that b1bridge
created from IP purchase orders become each IP line's cumulative `received`.

- GRPOs are read since a watermark rewound by `SYNC_OVERLAP_SECONDS` (UpdateTime has minute
  resolution, reference SL §12.1); every line copying a PO line (BaseType 22) lands in a ledger.
- A touched SAP PO is ours when its external-reference UDF reads `ip:{po_id}`.
- Each IP line gets the sum over *all* ledger lines of its SAP PO line, sent as an absolute total
  (reference IP §10.6), so a replay or an overlapping window changes nothing; lines IP already
  shows at that total are not sent. The SAP DocNum is kept as the IP PO's reference.
- A read-only IP PO is never written (IP_PO_READONLY instead); it clears once a later run sends.

A run is a `sync_runs` row (stream `receipts`) and single-flight like the stock stream.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.db.session import session_scope
from app.exceptions import service as exception_service
from app.integrations import clients
from app.integrations.inventory_planner.client import InventoryPlannerClient
from app.integrations.inventory_planner.errors import IPError, IPReadonly
from app.integrations.inventory_planner.schemas import IPPurchaseOrder
from app.integrations.sap_b1.client import SapB1Client
from app.kit import redis as redis_kit
from app.kit.locker import LockTimeout, RedisLock
from app.kit.time import as_utc, utcnow
from app.models.recommendation import RecommendationLine
from app.models.sync import RunMode, RunStatus, RunTrigger, SyncRun
from app.runtime import Runtime
from app.sync import receipts_repository as store
from app.sync import repository, rules, streams

logger = logging.getLogger("b1bridge.sync.receipts")
STREAM = "receipts"
JOB = "sync.receipts"
SOURCE = "sync.receipts"
READONLY = "IP_PO_READONLY"
EXT_PREFIX = "ip:"
TOLERANCE = 1e-6


@dataclass
class Counts:
    grpos: int = 0
    purchase_orders: int = 0
    lines_sent: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


# --- the run ------------------------------------------------------------------------------------


async def run(runtime: Runtime, *, trigger: RunTrigger = RunTrigger.schedule) -> SyncRun | None:
    """One receipts run; None when another one is active (nothing to do)."""
    lock = RedisLock(
        runtime.redis,
        redis_kit.key(runtime.settings, "lock", "sync", STREAM),
        lease_seconds=runtime.settings.sync.lock_lease_seconds,
        wait_timeout=0,
    )
    try:
        await lock.acquire()
    except LockTimeout:
        return None
    try:
        run_id = await _open(runtime, trigger)
        return await _execute(runtime, run_id) if run_id else None
    finally:
        await lock.release()


async def _open(runtime: Runtime, trigger: RunTrigger) -> str | None:
    """A running record; one left active by a dead worker is closed (we hold the stream's lock)."""
    async with session_scope(runtime.sessionmaker) as session:
        mark = await repository.watermark(session, STREAM)
        mode = RunMode.incremental if mark else RunMode.full
        for _ in range(2):
            now = utcnow()
            run = SyncRun(
                stream=STREAM,
                trigger=trigger,
                mode=mode,
                status=RunStatus.running,
                active_key=STREAM,
                started_at=now,
                heartbeat_at=now,
                watermark_from=mark,
                watermark_to=now,
            )
            if await repository.add_active_run(session, run):
                return run.id
            stale = await repository.active_run(session, STREAM)
            if stale is not None:
                _finish(stale, RunStatus.failed, [{"error": "abandoned: no worker held its lock"}])
                await session.flush()
    return None


def _finish(run: SyncRun, status: RunStatus, errors: list[dict[str, Any]]) -> None:
    now = utcnow()
    run.status, run.finished_at, run.active_key = status, now, None
    run.duration_ms = int((now - as_utc(run.started_at or run.created_at)).total_seconds() * 1000)
    run.errors = [*run.errors, *({"at": now.isoformat(), **e} for e in errors)][:100]


async def _execute(runtime: Runtime, run_id: str) -> SyncRun:
    counts, status = Counts(), RunStatus.succeeded
    async with session_scope(runtime.sessionmaker) as session:
        started = await repository.get_run(session, run_id)
        assert started is not None
        mark, until = started.watermark_from, started.watermark_to
    try:
        touched = await _read_grpos(runtime, clients.sap_reader(runtime), mark, counts)
        for entry in sorted(touched):
            await _receive_po(runtime, entry, counts)
    except Exception as exc:
        logger.exception("sync.receipts.failed", extra={"run_id": run_id})
        counts.errors.append({"error": f"{type(exc).__name__}: {exc}"[:2000]})
        status = RunStatus.failed
    return await _close(runtime, run_id, status, counts, until if status is RunStatus.succeeded else None)


async def _close(runtime: Runtime, run_id: str, status: RunStatus, counts: Counts, mark: Any) -> SyncRun:
    """A failed run leaves the watermark, so the next one re-reads the same window."""
    async with session_scope(runtime.sessionmaker) as session:
        run = await repository.get_run(session, run_id)
        assert run is not None
        run.read_count, run.changed_count = counts.grpos, counts.purchase_orders
        run.sent_count, run.skipped_count = counts.lines_sent, counts.unchanged
        _finish(run, status, counts.errors)
        if mark is not None:
            await repository.set_watermark(session, STREAM, mark, utcnow())
        return run


# --- SAP: GRPO lines into the ledger ------------------------------------------------------------


async def _read_grpos(runtime: Runtime, sap: SapB1Client, mark: Any, counts: Counts) -> set[int]:
    """Every GRPO changed since the watermark (all of them on the first run); the SAP POs touched."""
    s = runtime.settings.sync
    since = None
    if mark is not None:
        since = streams.changed_since(*rules.since(as_utc(mark), s.overlap_seconds, s.sap_timezone))
    touched: set[int] = set()
    batch: list[dict[str, Any]] = []
    async for doc in streams.grpos_since(sap, since):  # type: ignore[arg-type]
        counts.grpos += 1
        batch.extend(ledger_rows(doc))
        if len(batch) >= 500:
            touched |= await _save(runtime, batch)
            batch = []
    return touched | await _save(runtime, batch)


def ledger_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines of one GRPO that copy a PO line (BaseType 22); a cancelled GRPO counts zero."""
    cancelled, now = doc.get("Cancelled") == "tYES", utcnow()
    return [
        {
            "doc_entry": int(doc["DocEntry"]),
            "line_num": int(line.get("LineNum") or 0),
            "doc_num": int(doc["DocNum"]) if doc.get("DocNum") is not None else None,
            "base_entry": int(line["BaseEntry"]),
            "base_line": int(line.get("BaseLine") or 0),
            "item_code": str(line.get("ItemCode") or ""),
            "quantity": float(line.get("Quantity") or 0),
            "cancelled": cancelled,
            "seen_at": now,
        }
        for line in doc.get("DocumentLines") or []
        if str(line.get("BaseType")) == "22" and line.get("BaseEntry") is not None
    ]


async def _save(runtime: Runtime, rows: list[dict[str, Any]]) -> set[int]:
    async with session_scope(runtime.sessionmaker) as session:
        await store.save_grpo_lines(session, rows)
    return {r["base_entry"] for r in rows}


# --- one SAP PO: totals onto its IP PO ----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    ip_po_id: str
    doc_entry: int
    doc_num: str
    lines: list[dict[str, Any]]  # the SAP PO's DocumentLines


async def _receive_po(runtime: Runtime, entry: int, counts: Counts) -> None:
    target = await _target(runtime, entry)
    if target is None:
        return  # not a PO b1bridge created from an IP PO
    counts.purchase_orders += 1
    ip = clients.ip(runtime)
    po = await ip.get_purchase_order(target.ip_po_id)
    async with session_scope(runtime.sessionmaker) as session:
        totals = await store.received_by_line(session, entry)
        from app.recommendations import service as recommendation_service

        rec_lines = await recommendation_service.latest_lines_for_po(session, target.ip_po_id)
    line_ids = match_lines(target.lines, rec_lines, po)
    wanted = {line_ids[n]: q for n, q in totals.items() if n in line_ids}
    for n in sorted(set(totals) - set(line_ids)):
        counts.errors.append({"ip_po_id": target.ip_po_id, "sap_line": n, "error": "no IP line matches"})
    await _send(runtime, ip, po, target, wanted, counts)


async def _target(runtime: Runtime, entry: int) -> Target | None:
    udf = runtime.settings.sap.ext_ref_udf
    row = await streams.purchase_order(clients.sap_reader(runtime), entry, udf)
    ext = str(row.get(udf) or "")
    if not ext.startswith(EXT_PREFIX) or len(ext) == len(EXT_PREFIX):
        return None
    return Target(
        ext[len(EXT_PREFIX) :], entry, str(row.get("DocNum") or entry), row.get("DocumentLines") or []
    )


def match_lines(
    sap_lines: Sequence[dict[str, Any]], rec_lines: Sequence[RecommendationLine], po: IPPurchaseOrder
) -> dict[int, str]:
    """SAP LineNum → IP line id. The recommendation recorded each IP line id with the ItemCode and
    warehouse it was posted with, and the write-back keeps a line's LineNum per (ItemCode,
    WarehouseCode) across versions, so that pair (in order, for repeats) matches them; without a
    recommendation (an adopted or foreign PO) the SAP ItemCode is the IP SKU."""
    by_key: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rl in sorted(rec_lines, key=lambda r: r.line_no):
        if rl.ip_line_id:
            by_key[(rl.item_code or rl.sku or "", rl.warehouse_code or "")].append(rl.ip_line_id)
    by_sku: dict[str, list[str]] = defaultdict(list)
    for item in po.items:
        by_sku[item.sku or ""].append(str(item.id))
    out: dict[int, str] = {}
    for line in sorted(sap_lines, key=lambda r: int(r.get("LineNum") or 0)):
        code, whs = str(line.get("ItemCode") or ""), str(line.get("WarehouseCode") or "")
        pool = by_key.get((code, whs)) or by_sku.get(code)
        if pool:
            out[int(line.get("LineNum") or 0)] = pool.pop(0)
    return out


async def _send(
    runtime: Runtime,
    ip: InventoryPlannerClient,
    po: IPPurchaseOrder,
    target: Target,
    wanted: dict[str, float],
    counts: Counts,
) -> None:
    shown = {str(i.id): float(i.received or 0) for i in po.items}
    changes = {lid: q for lid, q in wanted.items() if abs(shown.get(lid, -1.0) - q) > TOLERANCE}
    stale_reference = po.reference != target.doc_num
    if not changes and not stale_reference:
        counts.unchanged += 1  # IP already shows these totals: nothing to send or to store
        await _record(runtime, po, target, {}, readonly=False)
        return
    try:
        await _write(ip, po, target, changes, stale_reference)
    except IPReadonly:
        await _record(runtime, po, target, {}, readonly=True)
        return
    except IPError as exc:
        if exc.retryable:
            raise  # the run fails and keeps its watermark: the next one re-sends the same totals
        counts.errors.append({"ip_po_id": target.ip_po_id, "error": f"{type(exc).__name__}: {exc}"[:500]})
        return
    counts.lines_sent += len(changes)
    await _record(runtime, po, target, wanted, readonly=False)
    logger.info("sync.receipts.sent", extra={"ip_po_id": target.ip_po_id, "lines": len(changes)})


async def _write(
    ip: InventoryPlannerClient,
    po: IPPurchaseOrder,
    target: Target,
    changes: dict[str, float],
    stale_reference: bool,
) -> None:
    """The client re-checks `readonly` itself: IPReadonly when the PO is (or became) read-only."""
    if po.is_readonly:
        raise IPReadonly(f"purchase order {po.id} is read-only in Inventory Planner", po_id=po.id)
    if changes:
        await ip.receive_items(target.ip_po_id, changes, current=po)
    if stale_reference:
        await ip.update_purchase_order(target.ip_po_id, reference=target.doc_num, current=po)


async def _record(
    runtime: Runtime, po: IPPurchaseOrder, target: Target, sent: dict[str, float], *, readonly: bool
) -> None:
    """What IP now holds (po_receipts), and the read-only exception raised or cleared."""
    subject = {"ip_po_id": target.ip_po_id}
    async with session_scope(runtime.sessionmaker) as session:
        if readonly:
            await exception_service.raise_exception(
                session,
                READONLY,
                subject,
                source=SOURCE,
                evidence={"sap_doc_entry": target.doc_entry, "sap_doc_num": target.doc_num},
                related={"ip_po_id": target.ip_po_id},
            )
            return
        await store.save_sent(session, _receipt_rows(po, target, sent))
        await exception_service.clear(session, READONLY, subject)


def _receipt_rows(po: IPPurchaseOrder, target: Target, sent: dict[str, float]) -> list[dict[str, Any]]:
    skus = {str(i.id): i.sku or "" for i in po.items}
    now = utcnow()
    return [
        {
            "ip_po_id": target.ip_po_id,
            "ip_line_id": lid,
            "sap_doc_entry": target.doc_entry,
            "sku": skus.get(lid, "")[:50],
            "received": qty,
            "sent_at": now,
        }
        for lid, qty in sorted(sent.items())
    ]


def summary(run: SyncRun | None) -> dict[str, Any]:
    if run is None:
        return {"skipped": "another receipts run is active"}
    return {
        "run_id": run.id,
        "status": str(run.status),
        "grpos": run.read_count,
        "purchase_orders": run.changed_count,
        "lines_sent": run.sent_count,
    }

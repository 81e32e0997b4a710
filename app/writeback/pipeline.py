"""The write-back pipeline: every SAP write (documents and adjustments) goes through `run`.

Order (DESIGN "Writes to SAP"): reporting window → period pre-check (cached) → the document's own
lock → re-check inside it (status, period) and claim → per-SKU locks in sorted order → one slot of
the global SAP cap → idempotency (local record, SAP lookup when an earlier call may have
committed) → post with a warehouse on every line → read back → SKUs free → record → only then IP,
then "posted". The SKU locks, which other documents wait for, cover only the SAP calls.

The database steps around the post (load, claim, record, posted) go through group commits: the
jobs of one worker that reach the same step together share one transaction and set-based
statements. At 50 ms per SAP write, per-transaction overhead was what bounded a worker.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from arq import Retry

from app.audit import service as audit
from app.db.session import session_scope
from app.exceptions import service as exceptions
from app.integrations.inventory_planner.errors import IPError
from app.integrations.sap_b1.client import SapB1Client
from app.integrations.sap_b1.errors import (
    SapConcurrencyConflict,
    SapError,
    SapOutcomeUnknown,
    SapPeriodLocked,
)
from app.integrations.sap_b1.periods import PostingPeriods
from app.kit import gate
from app.kit.context import current_request_id
from app.kit.groupcommit import GroupCommit
from app.kit.locker import LockTimeout
from app.kit.redact import redact
from app.kit.time import utcnow
from app.models.base import new_id
from app.models.recommendation import Recommendation
from app.models.writeback import SapDocument, SapWrite, WriteAttempt, WriteStatus
from app.runtime import Runtime
from app.writeback import blackout, clients, payloads, periods, repository, service, sources

log = logging.getLogger("b1bridge.writeback")
ACTOR = "system:writeback"
RUNNABLE = frozenset({WriteStatus.queued, WriteStatus.posting})
KEYS = {"ProductionOrders": ("AbsoluteEntry", "DocumentNumber")}
IN_LOCK_PERIOD_AGE = 60.0


class Hold(Exception):
    def __init__(self, check: periods.PeriodCheck, day: date) -> None:
        super().__init__(f"period {check.period_code} is {check.status}")
        self.check, self.day = check, day


class ChangeRejected(Exception):
    pass


def key_fields(entity: str) -> tuple[str, str]:
    return KEYS.get(entity, ("DocEntry", "DocNum"))


def backoff(attempt: int, base: float, cap: float) -> float:
    """Jittered exponential backoff: workers that failed together do not retry together."""
    return random.uniform(0.5, 1.0) * min(cap, base * 2 ** max(attempt - 1, 0))


# --- entry point --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    """What the job was queued with: enough to take the locks without reading the write first. Its
    SKUs and external reference never change; the claim re-reads everything else inside the lock."""

    skus: list[str]
    ext_ref: str
    doc_day: date


async def run(runtime: Runtime, write_id: str, hint: Hint | None = None) -> str:
    if hint is None:  # a job queued without one (by an older release)
        write = await _load(runtime, write_id)
        if write is None or write.status not in RUNNABLE:
            return "skipped"
        hint = Hint(write.skus, write.ext_ref, service.doc_day(write))
    if (end := _blackout_end(runtime)) is not None:
        return await _defer(runtime, write_id, end)
    try:
        await _precheck(runtime, write_id, hint)
        return await _locked(runtime, write_id, hint)
    except Retry:
        raise
    except Exception as exc:
        return await _failed(runtime, write_id, exc)


async def _precheck(runtime: Runtime, write_id: str, hint: Hint) -> None:
    """The period check on cached periods, before any lock: a document for a closed period waits
    for finance without holding its SKUs. Only a closed answer reads the write (it may be in SAP
    already, with only IP left to update, or carry a policy of its own)."""
    reader, max_age = clients.sap_reader(runtime), runtime.settings.writeback.period_cache_seconds
    check = await periods.check(reader, hint.doc_day, max_age)
    if check.open:
        return
    write = await _load(runtime, write_id)
    if write is not None and write.status in RUNNABLE and write.doc_entry is None:
        _date_on(runtime, write, check)  # Hold under `review`


def _grouped(runtime: Runtime, step: str, run: Callable[..., Awaitable[list[Any]]]) -> GroupCommit[Any, Any]:
    """The process's group commit for `step` (one per Runtime, closed with it)."""
    group: GroupCommit[Any, Any] = runtime.client(
        f"writeback-{step}", lambda rt: GroupCommit(functools.partial(run, rt)))
    return group


async def _load(runtime: Runtime, write_id: str) -> SapWrite | None:
    result: SapWrite | None = await _grouped(runtime, "load", _load_many)(write_id)
    return result


async def _load_many(runtime: Runtime, write_ids: list[str]) -> list[SapWrite | None]:
    async with session_scope(runtime.sessionmaker) as session:
        found = await repository.get_writes(session, write_ids)
    return [found.get(write_id) for write_id in write_ids]


def _blackout_end(runtime: Runtime) -> datetime | None:
    return blackout.window_end(blackout.parse(runtime.settings.sap.write_blackout), utcnow())


async def _defer(runtime: Runtime, write_id: str, end: datetime) -> str:
    """Re-enqueued for the window's end under a new deterministic id, so waiting out a reporting
    window never spends the write's retry budget."""
    async with session_scope(runtime.sessionmaker) as session:
        row = await repository.get_write(session, write_id)
        if row is not None:
            await service.enqueue(
                session,
                row,
                defer_seconds=(end - utcnow()).total_seconds() + 1,
                suffix=f":after:{int(end.timestamp())}",
            )
    log.info("writeback.deferred_blackout", extra={"write_id": write_id, "until": end.isoformat()})
    return "deferred"


async def _locked(runtime: Runtime, write_id: str, hint: Hint) -> str:
    """The document's own key for the whole job (claim, SAP, record); its SKUs only around the SAP
    calls. SKU keys are what other documents wait for, so they are held while SAP works on the
    document and no longer: the claim before and the record after need only the document's key."""
    settings = runtime.settings.writeback
    doc_key = clients.sku_lock_key(runtime, f"doc:{hint.ext_ref}")  # same document, any SKUs
    document = gate.Locks(runtime.redis, [doc_key], settings.lock_lease_seconds)
    async with document.hold(settings.lock_wait_seconds):
        return await _post(runtime, write_id, hint)


# --- inside the lock ----------------------------------------------------------------------------


@dataclass
class Claim:
    """What the job holds after claiming the write: nothing below re-reads it before the post."""

    write: SapWrite
    document: SapDocument | None
    day: date | None = None
    note: str | None = None
    operation: str | None = None
    attempt_id: str | None = None  # None with a create planned: look the document up first
    request_id: str | None = None  # the job's, for the audit entry (batches run in one task)


@dataclass
class Confirmed:
    key: int
    row: dict[str, Any]
    operation: str


async def _post(runtime: Runtime, write_id: str, hint: Hint) -> str:
    # Period re-check inside the lock (max age IN_LOCK_PERIOD_AGE); loaded here, outside any
    # transaction, so the claim below can date the document without I/O.
    loaded = await periods.periods(clients.sap_reader(runtime), IN_LOCK_PERIOD_AGE)
    claim = await _claim(runtime, write_id, loaded)
    if claim is None:
        return "skipped"
    write = claim.write
    if write.doc_entry is None:
        async with _skus_locked(runtime, claim, hint):
            confirmed = await _write_to_sap(runtime, claim)
        if not _needs_ip(write):
            return await _record(runtime, claim, confirmed, finish=True)
        await _record(runtime, claim, confirmed, finish=False)
    return await _finish(runtime, write_id)


@contextlib.asynccontextmanager
async def _skus_locked(runtime: Runtime, claim: Claim, hint: Hint) -> AsyncIterator[None]:
    """Every SKU of the document or none, in sorted order, leased, while SAP works on it: a
    document that cannot have all of them holds none while it waits, so a busy SKU never convoys
    the documents behind it. SAP's OITW rows are free once the post and the read-back returned, so
    the SKUs' next documents go while this one is recorded. A claimed write that got no SKUs or no
    slot in time closes its attempt: nothing reached SAP, so its next run has nothing to look up."""
    settings = runtime.settings.writeback
    keys = [clients.sku_lock_key(runtime, sku) for sku in hint.skus]
    locks = gate.Locks(runtime.redis, keys, settings.lock_lease_seconds)
    try:
        async with locks.hold(settings.lock_wait_seconds):
            yield
    except LockTimeout as exc:
        if claim.attempt_id is not None:
            await _end_attempt(runtime, claim.attempt_id, "error", error_evidence(exc))
        raise


async def _claim(runtime: Runtime, write_id: str, loaded: PostingPeriods) -> Claim | None:
    """Re-check preconditions (a newer write may have superseded this one), mark it posting, and
    record the attempt before the call: if this process dies mid-post, the next run sees an
    attempt without outcome and looks the external reference up before posting."""
    item = (write_id, loaded, current_request_id())
    claim: Claim | None = await _grouped(runtime, "claim", _claim_many)(item)
    return claim


async def _claim_many(
    runtime: Runtime, items: list[tuple[str, PostingPeriods, str | None]]
) -> list[Claim | Hold | None]:
    """One transaction for the claims that gathered; a Hold is that write's alone."""
    async with session_scope(runtime.sessionmaker) as session:
        writes = await repository.get_writes(session, [write_id for write_id, _, _ in items])
        refs = [w.ext_ref for w in writes.values() if w.status in RUNNABLE]
        documents = await repository.documents_for_ext_refs(session, refs)
        unresolved = await repository.unresolved_ext_refs(session, refs)
        claims: list[Claim | Hold | None] = []
        attempts: list[dict[str, Any]] = []
        for write_id, loaded, request_id in items:
            write = writes.get(write_id)
            if write is None or write.status not in RUNNABLE:
                claims.append(None)
                continue
            claim = Claim(write, documents.get((write.entity, write.ext_ref)), request_id=request_id)
            try:
                _plan(runtime, claim, loaded, write.ext_ref in unresolved, attempts)
            except Hold as hold:
                claims.append(hold)
                continue
            write.status, write.updated_at = WriteStatus.posting, utcnow()
            claims.append(claim)
        await repository.insert_rows(session, WriteAttempt, attempts)
        claimed = [c.write for c in claims if isinstance(c, Claim)]
        await sources.refresh_many(session, [(w.source_type, w.source_id) for w in claimed])
    return claims


def _plan(
    runtime: Runtime, claim: Claim, loaded: PostingPeriods, unresolved: bool, attempts: list[dict[str, Any]]
) -> None:
    """Date the document (Hold when its period is closed under `review`) and open its attempt."""
    write = claim.write
    if write.doc_entry is not None:
        return  # in SAP already: only IP is left to update
    claim.day, claim.note = _date_on(runtime, write, periods.evaluate(loaded, service.doc_day(write)))
    claim.operation = "update" if claim.document is not None else "create"
    if claim.document is not None or not unresolved:
        attempts.append(_attempt_row(write, claim.operation))
        claim.attempt_id = attempts[-1]["id"]


def _attempt_row(write: SapWrite, operation: str) -> dict[str, Any]:
    return {"id": new_id(), "write_id": write.id, "ext_ref": write.ext_ref, "operation": operation,
            "outcome": None, "error": None, "started_at": utcnow(), "finished_at": None}


async def _write_to_sap(runtime: Runtime, claim: Claim) -> Confirmed:
    """The SAP calls of one document under one slot of the global cap: post (or adopt), then read
    back. No database transaction is open meanwhile, and no slot is held for our database work."""
    write, document = claim.write, claim.document
    assert claim.day is not None and claim.operation is not None
    sap, cap = clients.sap_writer(runtime), clients.sap_cap(runtime)
    body = build_payload(runtime, write, claim.day, claim.note)
    if claim.attempt_id is None:
        async with gate.slot(cap):
            found = await _lookup(sap, write)  # an earlier call may have committed: adopt, never re-post
            if found is not None:
                return Confirmed(found, await sap.get(write.entity, found), "adopt")
        claim.attempt_id = await _begin_attempt(runtime, write, claim.operation)
    failure: SapError | ChangeRejected | None = None
    async with gate.slot(cap):
        try:
            key = await _call(sap, write, document, body)
        except SapOutcomeUnknown:
            raise  # the attempt stays open: the next run looks the document up first
        except (SapError, ChangeRejected) as exc:
            failure = exc
        else:
            # Read the document back: DocEntry, DocNum and one line per line we sent. A failure
            # here leaves the attempt open too, so a retry adopts instead of posting again.
            return Confirmed(key, await sap.get(write.entity, key), claim.operation)
    await _end_attempt(runtime, claim.attempt_id, "error", error_evidence(failure))
    raise failure


def _date_on(runtime: Runtime, write: SapWrite, check: periods.PeriodCheck) -> tuple[date, str | None]:
    day = service.doc_day(write)
    if check.open:
        return day, None
    policy = write.corrections.get("policy") or runtime.settings.writeback.locked_period_policy
    if policy != "post_in_open_period" or check.first_open is None:
        raise Hold(check, day)
    note = (
        f"b1bridge: originally dated {day.isoformat()}; period {check.period_code} is {check.status}, "
        f"posted on the first open date {check.first_open.isoformat()}"
    )
    return check.first_open, note


def build_payload(runtime: Runtime, write: SapWrite, day: date, note: str | None) -> dict[str, Any]:
    header = write.header
    comments = " | ".join(filter(None, [header.get("comments"), note])) or None
    head = payloads.Header(
        entity=write.entity,
        ext_ref_udf=runtime.settings.sap.ext_ref_udf,
        ext_ref=write.ext_ref,
        doc_date=day,
        due_date=date.fromisoformat(header["due_date"]) if header.get("due_date") else None,
        card_code=header.get("card_code"),
        reference=header.get("reference"),
        comments=comments,
    )
    return payloads.build(head, payloads.apply_corrections(_lines(write), write.corrections))


def _lines(write: SapWrite) -> list[payloads.Line]:
    return [
        payloads.Line(
            int(row["line_no"]),
            str(row["item_code"]),
            Decimal(str(row["quantity"])),
            str(row["warehouse_code"]),
            Decimal(str(row["price"])) if row.get("price") is not None else None,
        )
        for row in write.lines
    ]


async def _lookup(sap: SapB1Client, write: SapWrite) -> int | None:
    key, _ = key_fields(write.entity)
    row = await sap.find_by_ext_ref(write.entity, write.ext_ref, select=[key])
    return int(row[key]) if row else None


async def _begin_attempt(runtime: Runtime, write: SapWrite, operation: str) -> str:
    """Committed before the call (see `_claim`), when a lookup had to come first."""
    row = _attempt_row(write, operation)
    async with session_scope(runtime.sessionmaker) as session:
        await repository.insert_rows(session, WriteAttempt, [row])
    return str(row["id"])


async def _end_attempt(
    runtime: Runtime, attempt_id: str, outcome: str, error: dict[str, Any] | None = None
) -> None:
    async with session_scope(runtime.sessionmaker) as session:
        attempt = await session.get(WriteAttempt, attempt_id)
        if attempt is not None:
            attempt.outcome, attempt.error, attempt.finished_at = outcome, error, utcnow()


async def _call(sap: SapB1Client, write: SapWrite, document: SapDocument | None, body: dict[str, Any]) -> int:
    try:
        if document is None:
            created = await sap.create(write.entity, body)
            return int(created.entity[key_fields(write.entity)[0]])
        await _update(sap, write, document, body)
        return document.doc_entry
    except SapOutcomeUnknown:
        # The POST may have committed: look up before anything else (the attempt stays open, so a
        # crash right here still leads the next run to the same lookup).
        found = await _lookup(sap, write) if document is None else None
        if found is None:
            raise
        return found


async def _update(sap: SapB1Client, write: SapWrite, document: SapDocument, body: dict[str, Any]) -> None:
    """A newer version of a posted document: PATCH with If-Match, unless SAP no longer allows it."""
    current = await sap.get(write.entity, document.doc_entry)
    closed = (
        current.get("DocumentStatus") == "bost_Close"
        or current.get("Cancelled") == "tYES"
        or current.get("ProductionOrderStatus") not in (None, "boposPlanned")
    )
    received = [
        row.get("LineNum")
        for row in current.get("DocumentLines", [])
        if float(row.get("RemainingOpenQuantity", row.get("Quantity", 0)) or 0)
        < float(row.get("Quantity") or 0)
    ]
    removed = payloads.removed_lines(current, body)
    if closed or received or removed:
        reason = "closed" if closed else ("partly received" if received else "lines were removed")
        raise ChangeRejected(f"{write.entity} {document.doc_num or document.doc_entry} is {reason} in SAP")
    await sap.patch(
        write.entity,
        document.doc_entry,
        payloads.update_for(write.entity, current, body),
        etag=current.get("@odata.etag"),
    )


async def _record(runtime: Runtime, claim: Claim, confirmed: Confirmed, *, finish: bool) -> str:
    """The document as SAP confirmed it, its attempts closed, the audit entry and, when nothing
    else has to happen first (no IP update), the write marked posted: one transaction."""
    await _grouped(runtime, "record", _record_many)((claim, confirmed, finish))
    if finish:
        log.info("writeback.posted", extra={"write_id": claim.write.id, "doc_entry": confirmed.key})
    return "posted"


async def _record_many(runtime: Runtime, items: list[tuple[Claim, Confirmed, bool]]) -> list[None]:
    """Column values, not ORM objects, for the batch: the claim's copy of each write is current
    (its document's key has been held since the claim, and nothing else changes a posting write)."""
    now = utcnow()
    writes: list[dict[str, Any]] = []
    new_documents: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    finished: list[SapWrite] = []
    async with session_scope(runtime.sessionmaker) as session:
        known = await repository.documents_for_ext_refs(session, [c.write.ext_ref for c, _, _ in items])
        for claim, confirmed, finish in items:
            write, row = claim.write, confirmed.row
            assert claim.day is not None
            write.doc_entry, write.doc_num = confirmed.key, _int(row.get(key_fields(write.entity)[1]))
            write.operation, write.posted_date = confirmed.operation, claim.day
            values: dict[str, Any] = {
                "id": write.id, "doc_entry": write.doc_entry, "doc_num": write.doc_num,
                "operation": write.operation, "posted_date": write.posted_date, "updated_at": now,
            }
            if finish:
                values.update(status=WriteStatus.posted, posted_at=now, last_error=None)
                finished.append(write)
            writes.append(values)
            ours = known.get((write.entity, write.ext_ref))
            (documents if ours else new_documents).append(_document_values(write, row, ours, now))
            entries.append(_audit_entry(write, claim.note, claim.request_id))
        await repository.update_rows(session, SapWrite, writes)
        await repository.insert_rows(session, SapDocument, new_documents)
        await repository.update_rows(session, SapDocument, documents)
        await repository.close_open_attempts(session, [w["id"] for w in writes], "ok")
        await audit.record_many(session, entries)
        await _posted_effects(session, finished)
    return [None] * len(items)


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _document_values(
    write: SapWrite, row: dict[str, Any], known: SapDocument | None, now: datetime
) -> dict[str, Any]:
    """The sap_documents row as SAP confirmed the document: a new row, or the update of ours."""
    lines = row.get("DocumentLines") or [
        {"ItemCode": row.get("ItemNo"), "WarehouseCode": row.get("Warehouse")}  # ProductionOrders
    ]
    summary = [
        {
            "LineNum": ln.get("LineNum"),
            "ItemCode": ln.get("ItemCode"),
            "Quantity": ln.get("Quantity"),
            "WarehouseCode": ln.get("WarehouseCode"),
        }
        for ln in lines
    ]
    values = {"lines": summary, "write_id": write.id, "source_id": write.source_id, "updated_at": now}
    if known is not None:
        return {"id": known.id, **values}
    return {
        "id": new_id(),
        "entity": write.entity,
        "doc_entry": write.doc_entry,
        "doc_num": write.doc_num,
        "ext_ref": write.ext_ref,
        "source_type": write.source_type,
        "created_at": now,
        **values,
    }


def _audit_entry(write: SapWrite, note: str | None, request_id: str | None) -> dict[str, Any]:
    return audit.entry_values(
        actor=ACTOR,
        action=f"sap.document_{write.operation}",
        entity_type=write.source_type,
        entity_id=write.source_id,
        request_id=request_id,
        after={
            "entity": write.entity,
            "doc_entry": write.doc_entry,
            "doc_num": write.doc_num,
            "ext_ref": write.ext_ref,
            "write_id": write.id,
            "doc_date": write.doc_date.isoformat(),
            "posted_date": write.posted_date.isoformat() if write.posted_date else None,
            "idempotency_key": write.header.get("idempotency_key"),
            "request_id": write.header.get("request_id"),
        },
        note=note,
    )


# --- after SAP confirmed ------------------------------------------------------------------------


async def _finish(runtime: Runtime, write_id: str) -> str:
    write = await _load(runtime, write_id)
    assert write is not None
    warning = await _update_ip(runtime, write)
    await _grouped(runtime, "posted", _posted_many)((write_id, warning))
    log.info("writeback.posted", extra={"write_id": write_id, "doc_entry": write.doc_entry})
    return "posted"


async def _posted_many(runtime: Runtime, items: list[tuple[str, dict[str, Any] | None]]) -> list[None]:
    now = utcnow()
    rows = [{"id": write_id, "status": WriteStatus.posted, "posted_at": now, "updated_at": now,
             "last_error": warning} for write_id, warning in items]
    async with session_scope(runtime.sessionmaker) as session:
        await repository.update_rows(session, SapWrite, rows)
        writes = await repository.get_writes(session, [write_id for write_id, _ in items])
        await _posted_effects(session, list(writes.values()))
    return [None] * len(items)


async def _posted_effects(session: Any, posted: Sequence[SapWrite]) -> None:
    """What "posted" settles: the document's failure exceptions, and its source's status."""
    if not posted:
        return
    cleared = ("POST_FAILED", "SAP_BUSY", "LOCKED_PERIOD")
    await exceptions.clear_many(session, [(k, {"document": w.ext_ref}) for w in posted for k in cleared])
    await sources.refresh_many(session, [(w.source_type, w.source_id) for w in posted])


def _needs_ip(write: SapWrite) -> bool:
    """Only documents made from an IP purchase order report back to IP."""
    return write.source_type == "recommendation" and write.group_key in ("po", "pr")


async def _update_ip(runtime: Runtime, write: SapWrite) -> dict[str, Any] | None:
    """The IP PO gets our DocNum as its reference, only once SAP confirmed the document."""
    if not _needs_ip(write):
        return None
    async with session_scope(runtime.sessionmaker) as session:
        rec = await session.get(Recommendation, write.source_id)
    if rec is None:
        return None
    try:
        await clients.ip(runtime).update_purchase_order(
            rec.ip_po_id,
            reference=str(write.doc_num or write.doc_entry),
            status=runtime.settings.writeback.ip_status_after_post or None,
        )
    except IPError as exc:
        if exc.retryable:
            raise
        # Read-only or refused in IP: the SAP document stands; say so rather than fail it.
        log.warning("writeback.ip_update_refused", extra={"write_id": write.id, "error": str(exc)})
        return {"ip_update": f"{type(exc).__name__}: {exc}"}
    return None


# --- failures -----------------------------------------------------------------------------------


def error_evidence(exc: BaseException) -> dict[str, Any]:
    evidence: dict[str, Any] = {"error": type(exc).__name__, "message": str(getattr(exc, "message", exc))}
    if isinstance(exc, SapError):
        evidence.update(
            sap_code=exc.sap_code,
            http_status=exc.http_status,
            request=exc.request.as_dict() if exc.request else None,
        )
    return redact(evidence)


def _retryable(exc: BaseException) -> bool:
    # 412 means someone changed the document since we read it: re-read and reapply on the retry.
    return bool(getattr(exc, "retryable", False)) or isinstance(exc, SapConcurrencyConflict)


async def _failed(runtime: Runtime, write_id: str, exc: Exception) -> str:
    if isinstance(exc, Hold):
        return await _hold(runtime, write_id, exc)
    if isinstance(exc, SapPeriodLocked):
        periods.invalidate(clients.sap_writer(runtime))  # our cache said open: it was wrong
        if runtime.settings.writeback.locked_period_policy == "post_in_open_period":
            return await _retry_later(runtime, write_id, exc)
        return await _hold(runtime, write_id, None)
    if isinstance(exc, ChangeRejected):
        return await _give_up(runtime, write_id, exc, "DOCUMENT_CHANGE_REJECTED", WriteStatus.rejected)
    if _retryable(exc):
        return await _retry_later(runtime, write_id, exc)
    if not isinstance(exc, SapError | IPError):
        log.exception("writeback.unexpected_error", extra={"write_id": write_id})
    return await _give_up(runtime, write_id, exc, "POST_FAILED", WriteStatus.failed)


async def _retry_later(runtime: Runtime, write_id: str, exc: Exception) -> str:
    settings = runtime.settings.writeback
    async with session_scope(runtime.sessionmaker) as session:
        write = await repository.get_write(session, write_id)
        assert write is not None
        write.attempts += 1
        write.last_error = error_evidence(exc)
        write.status = WriteStatus.queued
        attempts = write.attempts
    if attempts > settings.retry_budget:
        return await _give_up(runtime, write_id, exc, "SAP_BUSY", WriteStatus.failed)
    delay = backoff(attempts, settings.backoff_base_seconds, settings.backoff_cap_seconds)
    log.info(
        "writeback.retry",
        extra={
            "write_id": write_id,
            "attempt": attempts,
            "delay_s": round(delay, 2),
            "error": type(exc).__name__,
        },
    )
    raise Retry(defer=timedelta(seconds=delay))


async def _give_up(runtime: Runtime, write_id: str, exc: Exception, kind: str, status: WriteStatus) -> str:
    async with session_scope(runtime.sessionmaker) as session:
        write = await repository.get_write(session, write_id)
        assert write is not None
        write.status, write.updated_at = status, utcnow()
        write.last_error = error_evidence(exc)
        evidence = {
            **write.last_error,
            "payload": redact(build_payload(runtime, write, write.doc_date, None)),
        }
        await exceptions.raise_exception(
            session,
            kind,
            {"document": write.ext_ref},
            evidence=evidence,
            message=str(exc)[:2000],
            source="writeback",
            related={"write_id": write.id, write.source_type: write.source_id},
        )
        await sources.refresh(session, write.source_type, write.source_id)
    log.warning("writeback.gave_up", extra={"write_id": write_id, "kind": kind, "error": str(exc)[:300]})
    return kind.lower()


async def _hold(runtime: Runtime, write_id: str, hold: Hold | None) -> str:
    async with session_scope(runtime.sessionmaker) as session:
        write = await repository.get_write(session, write_id)
        assert write is not None
        write.status, write.updated_at = WriteStatus.held, utcnow()
        evidence = {
            "doc_date": (hold.day if hold else write.doc_date).isoformat(),
            "period": hold.check.period_code if hold else None,
            "period_status": hold.check.status if hold else "ltLocked (-4013 from SAP)",
            "first_open_date": hold.check.first_open.isoformat() if hold and hold.check.first_open else None,
        }
        await exceptions.raise_exception(
            session,
            "LOCKED_PERIOD",
            {"document": write.ext_ref},
            evidence=evidence,
            source="writeback",
            message=f"{write.entity} {write.ext_ref} is dated in a locked posting period; nothing was posted",
            related={"write_id": write.id, write.source_type: write.source_id},
        )
        await sources.refresh(session, write.source_type, write.source_id)
    return "held"

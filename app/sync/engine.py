"""The stock-out engine: SAP pages in, snapshot upserts and Advanced CSV rows out, page by page.

Memory stays flat with catalogue size: each page of items is evaluated against the rows already
stored for those SKUs only, written back in bulk, and its changed rows appended to the open spool
files. Nothing is marked as sent until the files are finished, validated and queued (two phases,
see app/models/sync.py), so a run that fails anywhere leaves the next run to send the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.session import session_scope
from app.integrations.inventory_planner.csv_specs import Entity
from app.integrations.sap_b1.client import SapB1Client
from app.models.sync import IpStock, IpWarehouseState, ItemState, RunMode, SapWarehouse, StockSnapshot
from app.sync import repository, rules, streams
from app.sync.repository import Stored
from app.sync.sinks import Sinks

logger = logging.getLogger("b1bridge.sync")
Row = dict[str, Any]
Progress = Callable[[int], None]
MISSING_IN_SAP = "missing_in_sap"
# 8 pages of 500 items: ~20k rows per commit, the SQLite write lock held for about a second.
PAGES_PER_TRANSACTION = 8


@dataclass
class Counts:
    read: int = 0
    changed: int = 0
    sent: int = 0
    skipped: int = 0


@dataclass
class Plan:
    """Everything fixed for one run: routes, mappings, policies, the clock."""

    run_id: str
    mode: RunMode
    now: datetime
    routes: dict[str, rules.Route]
    groups: dict[int, Any]
    policy: str
    zone: str
    advanced: bool
    dry_run: bool = False
    held_ip: set[str] = field(default_factory=set)
    # An item whose digest matches the stored one is skipped only when the stream's previous run
    # succeeded: a failed run may have stored digests for rows it never marked as sent.
    trust_digests: bool = False

    @functools.cached_property
    def context(self) -> str:
        """Everything besides the item itself that its evaluation depends on."""
        groups = sorted((code, g.ip_category, g.include_in_planning) for code, g in self.groups.items())
        return rules.context_digest(
            sorted(self.routes.items()), groups, self.policy, self.zone, self.advanced, sorted(self.held_ip)
        )

    def decision(self, group_code: int | None) -> rules.GroupDecision:
        """rules.group_decision for this run's groups and policy, once per group code."""
        found = self._decisions.get(group_code)
        if found is None:
            found = self._decisions[group_code] = rules.group_decision(group_code, self.groups, self.policy)
        return found

    @functools.cached_property
    def _decisions(self) -> dict[int | None, rules.GroupDecision]:
        return {}

    @property
    def targets(self) -> dict[str, str]:
        """Mapped IP warehouses that receive stock this run, with their display names."""
        return {
            r.ip_warehouse_id: r.ip_warehouse_name or r.ip_warehouse_id
            for r in self.routes.values()
            if r.ip_warehouse_id and r.exclusion is None
        }


@dataclass
class ItemEval:
    sku: str
    item: Row
    exclusion: str | None
    held: bool
    fields: dict[str, Any]
    rows: list[rules.StockRow]
    totals: dict[str, float]
    group: int | None

    @property
    def live(self) -> bool:
        return self.exclusion is None


def evaluate(item: Row, plan: Plan) -> ItemEval:
    """Apply every rule to one SAP item (pure)."""
    group_code = _int(item.get("ItemsGroupCode"))
    decision = plan.decision(group_code)
    exclusion = rules.item_exclusion(item) or (
        decision.exclusion if decision.exclusion == rules.GROUP_EXCLUDED else None
    )
    rows = rules.stock_rows(item, plan.routes)
    return ItemEval(
        str(item["ItemCode"]),
        item,
        exclusion,
        decision.exclusion == rules.UNMAPPED_CATEGORY,
        rules.variant_fields(item),
        rows,
        rules.ip_totals(rows),
        group_code,
    )


async def prefetch(pages: AsyncIterator[list[Row]], depth: int = 2) -> AsyncGenerator[list[Row], None]:
    """Fetch the next SAP pages while this one is written to the database: the run then takes about
    as long as the slower of the two, not their sum. Errors surface in order, on the consumer."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=depth)

    async def pump() -> None:
        try:
            async for page in pages:
                await queue.put(page)
            await queue.put(_END)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            await queue.put(exc)

    task = asyncio.create_task(pump())
    try:
        while (item := await queue.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


_END = object()


def _int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


class StockEngine:
    def __init__(
        self,
        sap: SapB1Client,
        sessions: async_sessionmaker[AsyncSession],
        plan: Plan,
        sinks: Sinks,
        *,
        page_size: int,
        progress: Progress | None = None,
    ) -> None:
        self.sap = sap
        self.sessions = sessions
        self.plan = plan
        self.sinks = sinks
        self.page_size = page_size
        self.progress = progress or (lambda n: None)
        self.counts = Counts()
        self.seen: set[str] = set()

    # --- passes -------------------------------------------------------------------------------

    async def run_full(self) -> None:
        await self._consume(streams.items(self.sap, page_size=self.page_size))
        if not self.plan.dry_run:
            await self._disappeared()

    async def run_incremental(self, since: Any) -> None:
        await self._consume(streams.items(self.sap, since=since, page_size=self.page_size))
        moved = await streams.moved_item_codes(self.sap, since) - self.seen
        logger.info("sync.stock.moved_items", extra={"count": len(moved)})
        await self._consume(streams.items_by_code(self.sap, moved))

    async def _consume(self, pages: AsyncIterator[list[Row]]) -> None:
        """Several pages per transaction: each commit is a WAL fsync on SQLite and a round trip
        on PostgreSQL, and nothing is marked as sent before the run's end anyway (two phases), so
        a bigger transaction loses nothing when a run fails. (Writing behind, in a task of its
        own while the next page is evaluated, was measured too: no faster, since evaluation and
        the driver share one GIL, and a queue of batches more in memory.)"""
        async with contextlib.aclosing(prefetch(pages)) as stream:
            done = False
            while not done:
                async with session_scope(self.sessions) as session:
                    await repository.prefer_key_lookups(session)
                    for _ in range(PAGES_PER_TRANSACTION):
                        page = await anext(stream, None)
                        if page is None:
                            done = True
                            break
                        await self._consume_page(session, page)

    async def _consume_page(self, session: AsyncSession, page: list[Row]) -> None:
        fresh = {str(i["ItemCode"]): i for i in page if str(i["ItemCode"]) not in self.seen}
        if self.plan.mode == RunMode.incremental:  # a full run's key-set pass cannot repeat a row
            self.seen.update(fresh)
        self.counts.read += len(page)
        if fresh:
            await self._page(session, list(fresh.values()))
        self.progress(len(page))

    # --- one page -----------------------------------------------------------------------------

    async def _page(self, session: AsyncSession, page: list[Row]) -> None:
        """Items whose digest is unchanged since a successful run only have seen_at moved; the
        others are evaluated against their stored rows (which only items stored before have)."""
        stored = await repository.item_digests(session, [str(i["ItemCode"]) for i in page])
        batch = _Batch(self.plan.run_id, self.plan.now)
        evals, digests = [], {}
        for item in page:
            sku, digest = str(item["ItemCode"]), rules.item_digest(item, self.plan.context)
            if self.plan.trust_digests and stored.get(sku) == digest:
                batch.seen.append(sku)
                self.counts.skipped += self._skipped(item)
                continue
            evals.append(evaluate(item, self.plan))
            digests[sku] = digest
        known = [e.sku for e in evals if e.sku in stored]
        old_items = await repository.items(session, known) if known else {}
        old_snaps = await repository.snapshots(session, known) if known else {}
        old_ip = await repository.ip_stock(session, known) if known else {}
        for e in evals:
            prev = old_items.get(e.sku)
            self._snapshot(e, old_snaps.get(e.sku, {}), batch)
            if e.held:
                self.counts.skipped += 1
            else:
                self._ip_stock(e.sku, e.live, e.totals, old_ip.get(e.sku, {}), batch)
                self._variant(e, prev, batch)
            row = self._item_row(e, digests[e.sku], batch.pending.pop(e.sku, None))
            if prev is not None and row["pending_run_id"] is None and _same_item(prev, row):
                batch.seen.append(e.sku)  # nothing but seen_at moves: one UPDATE for the page
            else:
                batch.items.append(row)
        if not self.plan.dry_run:
            await batch.write(session)

    def _skipped(self, item: Row) -> int:
        """What evaluate() would have counted as kept out, for an item it is not run on."""
        held = self.plan.decision(_int(item.get("ItemsGroupCode")))
        routes = self.plan.routes
        excluded = sum(
            1
            for line in item.get("ItemWarehouseInfoCollection") or []
            if (r := routes.get(str(line["WarehouseCode"]))) is None or r.exclusion is not None
        )
        return excluded + (held.exclusion == rules.UNMAPPED_CATEGORY)

    def _snapshot(self, e: ItemEval, old: dict[str, Stored], batch: _Batch) -> None:
        now, updated = (
            self.plan.now,
            rules.sap_datetime(e.item.get("UpdateDate"), e.item.get("UpdateTime"), self.plan.zone),
        )
        present = set()
        for r in e.rows:
            present.add(r.sap_warehouse)
            if r.exclusion is not None:
                self.counts.skipped += 1
            prev = old.get(r.sap_warehouse)
            if prev is not None and _same_snapshot(prev, r):
                continue
            self.counts.changed += 1
            batch.snaps.append(
                {
                    "sku": e.sku,
                    "sap_warehouse": r.sap_warehouse,
                    "on_hand": r.on_hand,
                    "committed": r.committed,
                    "ordered": r.ordered,
                    "available": r.available,
                    "ip_warehouse_id": r.ip_warehouse_id,
                    "excluded_rule": r.exclusion,
                    "sap_updated_at": updated,
                    "seen_at": now,
                    "changed_at": now,
                }
            )
        batch.gone.extend((e.sku, wh) for wh in old if wh not in present)

    def _ip_stock(
        self,
        sku: str,
        live: bool,
        totals: dict[str, float],
        old: dict[str, Stored],
        batch: _Batch,
    ) -> None:
        known = {wh for wh in old if wh not in self.plan.held_ip}
        for wh in sorted(set(totals) | known):
            prev = old.get(wh)
            value = totals.get(wh, 0.0 if live else None)
            action = rules.stock_action(
                prev.sent_value if prev else None, bool(prev and prev.sent_removed), live, value
            )
            if (
                action is None
                and prev is not None
                and prev.sap_available == (value or 0.0)
                and prev.live == live
            ):
                continue
            batch.ips.append(self._ip_row(sku, wh, value, live, action))

    def _ip_row(
        self, sku: str, wh: str, value: float | None, live: bool, action: tuple[str, float | None] | None
    ) -> Row:
        row: Row = {
            "sku": sku,
            "ip_warehouse_id": wh,
            "sap_available": value or 0.0,
            "live": live,
            "changed_at": self.plan.now,
            "pending_value": None,
            "pending_removed": False,
            "pending_run_id": None,
        }
        if action is not None and self.plan.advanced:
            sent = action[1] if action[0] == "stock" else None
            self.sinks.add(Entity.variant_warehouses, rules.stock_row(sku, wh, sent, now=self.plan.now))
            self.counts.sent += 1
            row.update(pending_value=sent, pending_removed=sent is None, pending_run_id=self.plan.run_id)
        return row

    def _variant(self, e: ItemEval, prev: Stored | None, batch: _Batch) -> None:
        new_hash = rules.fields_hash(e.fields, removed=not e.live)
        action = rules.variant_action(
            prev.sent_hash if prev else None, bool(prev and prev.sent_removed), e.live, new_hash
        )
        if action is None or not self.plan.advanced:
            return
        created = rules.sap_datetime(e.item.get("CreateDate"), None, self.plan.zone) or self.plan.now
        self.sinks.add(
            Entity.variants,
            rules.variant_row(e.fields, created=created, now=self.plan.now, removed=action == "removed"),
        )
        self.counts.sent += 1
        batch.pending[e.sku] = (new_hash, action == "removed")

    def _item_row(self, e: ItemEval, digest: str | None, pending: tuple[str, bool] | None) -> Row:
        """The item's upsert; the variant row this run spooled for it (if any) rides along as pending."""
        return {
            "sku": e.sku,
            "name": e.fields["title"][:200],
            "barcode": e.fields.get("barcode"),
            "group_code": e.group,
            "avg_price": float(e.item.get("AvgStdPrice") or 0.0),
            "live": e.live,
            "excluded_rule": e.exclusion or (rules.UNMAPPED_CATEGORY if e.held else None),
            "sap_created": str(e.item.get("CreateDate") or "")[:10] or None,
            "sap_updated_at": rules.sap_datetime(
                e.item.get("UpdateDate"), e.item.get("UpdateTime"), self.plan.zone
            ),
            "seen_at": self.plan.now,
            "missing_since": None,
            "digest": digest,
            "pending_hash": pending[0] if pending else None,
            "pending_removed": pending[1] if pending else False,
            "pending_run_id": self.plan.run_id if pending else None,
        }

    # --- what SAP no longer has ---------------------------------------------------------------

    async def _disappeared(self) -> None:
        after = ""
        while True:
            async with session_scope(self.sessions) as session:
                skus = await repository.missing_skus(session, self.plan.now, after, self.page_size)
                if not skus:
                    return
                await self._remove(session, skus)
            after = skus[-1]

    async def _remove(self, session: AsyncSession, skus: list[str]) -> None:
        old_items = await repository.items(session, skus)
        old_ip = await repository.ip_stock(session, skus)
        old_snaps = await repository.snapshots(session, skus)
        stale = [(sku, wh) for sku, rows in old_snaps.items() for wh in rows]
        batch = _Batch(self.plan.run_id, self.plan.now, gone=stale)
        for sku in skus:
            item = old_items[sku]
            self._ip_stock(sku, False, {}, old_ip.get(sku, {}), batch)
            gone = ItemEval(
                sku,
                {"ItemCode": sku, "CreateDate": item.sap_created},
                MISSING_IN_SAP,
                False,
                {"sku": sku, "title": item.name or sku, "barcode": item.barcode},
                [],
                {},
                item.group_code,
            )
            self._variant(gone, item, batch)
        await batch.write(session)
        await repository.mark_missing(session, skus, self.plan.now)

    # --- after the passes ---------------------------------------------------------------------

    def warehouse_rows(self, states: dict[str, IpWarehouseState]) -> list[Row]:
        """Warehouse rows for mapped IP warehouses on first sync and when their name changes."""
        out = []
        for wh, name in sorted(self.plan.targets.items()):
            digest = rules.fields_hash({"name": name}, removed=False)
            prev = states.get(wh)
            if prev is None or prev.sent_hash != digest:
                if self.plan.advanced:
                    self.sinks.add(Entity.warehouses, rules.warehouse_row(wh, name, now=self.plan.now))
                    self.counts.sent += 1
                out.append(
                    {
                        "ip_warehouse_id": wh,
                        "display_name": name[:200],
                        "sent_hash": digest,
                        "sent_at": self.plan.now,
                    }
                )
        return out


def _same_snapshot(prev: Stored, row: rules.StockRow) -> bool:
    return (prev.on_hand, prev.committed, prev.ordered, prev.ip_warehouse_id, prev.excluded_rule) == (
        row.on_hand,
        row.committed,
        row.ordered,
        row.ip_warehouse_id,
        row.exclusion,
    )


# The item columns an upsert writes, compared with the stored row (seen_at always moves; a row
# seen again is never missing).
_ITEM_FIELDS = (
    "name", "barcode", "group_code", "avg_price", "live", "excluded_rule", "sap_created", "sap_updated_at",
    "digest",
)  # fmt: skip


def _same_item(prev: Stored, row: Row) -> bool:
    return prev.missing_since is None and all(getattr(prev, f) == row[f] for f in _ITEM_FIELDS)


@dataclass
class _Batch:
    """The rows one page writes, in bulk."""

    run_id: str
    now: datetime
    items: list[Row] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    snaps: list[Row] = field(default_factory=list)
    ips: list[Row] = field(default_factory=list)
    gone: list[tuple[str, str]] = field(default_factory=list)
    pending: dict[str, tuple[str, bool]] = field(default_factory=dict)

    async def write(self, session: AsyncSession) -> None:
        await repository.upsert(session, ItemState, self.items, ["sku"])
        await repository.touch_items(session, self.seen, self.now)
        await repository.set_item_pending(session, self.pending, self.run_id)
        await repository.upsert(session, StockSnapshot, self.snaps, ["sku", "sap_warehouse"])
        await repository.upsert(session, IpStock, self.ips, ["sku", "ip_warehouse_id"])
        await repository.delete_snapshots(session, self.gone)


async def save_warehouses(session: AsyncSession, rows: list[Row], now: datetime) -> None:
    values = [
        {
            "code": r["WarehouseCode"],
            "name": str(r.get("WarehouseName") or "")[:200],
            "inactive": rules.yes(r.get("Inactive", "tNO")),
            "nettable": rules.yes(r.get("Nettable", "tYES")),
            "drop_ship": rules.yes(r.get("DropShip", "tNO")),
            "seen_at": now,
        }
        for r in rows
    ]
    await repository.upsert(session, SapWarehouse, values, ["code"])

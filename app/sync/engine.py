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
    def digest(self) -> Callable[[Row], str]:
        """rules.item_hasher for this run's context."""
        return rules.item_hasher(self.context)

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


@dataclass(slots=True)
class ItemEval:
    sku: str
    item: Row
    exclusion: str | None
    held: bool
    title: str
    barcode: str | None
    rows: list[rules.StockRow]
    totals: dict[str, float]
    group: int | None
    updated: datetime | None  # SAP's UpdateDate + UpdateTime

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
    fields = rules.variant_fields(item)
    return ItemEval(
        fields["sku"],
        item,
        exclusion,
        decision.exclusion == rules.UNMAPPED_CATEGORY,
        fields["title"],
        fields["barcode"],
        rows,
        rules.ip_totals(rows),
        group_code,
        rules.sap_datetime(item.get("UpdateDate"), item.get("UpdateTime"), plan.zone),
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
        self._variant_csv = sinks.adder(Entity.variants, rules.VARIANT_COLUMNS)
        self._stock_csv = sinks.adder(Entity.variant_warehouses, rules.STOCK_COLUMNS)

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
        a bigger transaction loses nothing when a run fails. (Writing behind, in a task and on a
        connection of its own while the next page is evaluated, was measured twice: no faster,
        since evaluation, the upserts' parameters and the driver's binding share one GIL.)"""
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
            batch = await self._page(session, list(fresh.values()))
            if not self.plan.dry_run:
                await batch.write(session)
        self.progress(len(page))

    # --- one page -----------------------------------------------------------------------------

    async def _page(self, session: AsyncSession, page: list[Row]) -> _Batch:
        """Items whose digest is unchanged since a successful run only have seen_at moved; the
        others are evaluated against their stored rows (which only items stored before have)."""
        plan, batch = self.plan, _Batch(self.plan.run_id, self.plan.now)
        stored = await repository.item_digests(session, [str(i["ItemCode"]) for i in page])
        evals: list[tuple[ItemEval, str]] = []
        for item in page:
            sku, digest = str(item["ItemCode"]), plan.digest(item)
            if plan.trust_digests and stored.get(sku) == digest:
                batch.seen.append(sku)
                self.counts.skipped += self._skipped(item)
            else:
                evals.append((evaluate(item, plan), digest))
        known = [e.sku for e, _ in evals if e.sku in stored]
        old_items = await repository.items(session, known) if known else {}
        old_snaps = await repository.snapshots(session, known) if known else {}
        old_ip = await repository.ip_stock(session, known) if known else {}
        for e, digest in evals:
            self._item(e, digest, old_items.get(e.sku), old_snaps.get(e.sku), old_ip.get(e.sku), batch)
        return batch

    def _item(
        self,
        e: ItemEval,
        digest: str,
        prev: Stored | None,
        old_snaps: dict[str, Stored] | None,
        old_ip: dict[str, Stored] | None,
        batch: _Batch,
    ) -> None:
        """Everything one evaluated item writes: its snapshot rows, its IP rows and variant row
        (unless held), and its own row (or only seen_at when nothing else moved)."""
        self._snapshot(e, old_snaps, batch)
        pending = None
        if e.held:
            self.counts.skipped += 1
        else:
            self._ip_stock(e.sku, e.live, e.totals, old_ip, batch)
            pending = self._variant(e, prev)
        row = self._item_row(e, digest, pending)
        if prev is not None and pending is None and _same_item(prev, row):
            batch.seen.append(e.sku)  # nothing but seen_at moves: one UPDATE for the page
        else:
            batch.items.append(row)

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

    def _snapshot(self, e: ItemEval, old: dict[str, Stored] | None, batch: _Batch) -> None:
        """Changed SAP rows (all of them for an item stored before without them), in
        SNAPSHOT_COLUMNS order: the StockRow's own fields sit in the middle."""
        sku, now, updated = e.sku, self.plan.now, e.updated
        counts, snaps = self.counts, batch.snaps
        for r in e.rows:
            if r.exclusion is not None:
                counts.skipped += 1
            if old and (prev := old.get(r.sap_warehouse)) is not None and _same_snapshot(prev, r):
                continue
            counts.changed += 1
            snaps.append((sku, *r, updated, now, now))
        if old:
            present = {r.sap_warehouse for r in e.rows}
            batch.gone.extend((sku, wh) for wh in old if wh not in present)

    def _ip_stock(
        self,
        sku: str,
        live: bool,
        totals: dict[str, float],
        old: dict[str, Stored] | None,
        batch: _Batch,
    ) -> None:
        """IP rows whose figure, liveness or sent value moves; the ones IP must hear of also go
        into the variant-warehouses file."""
        if old:
            targets = sorted(set(totals) | {wh for wh in old if wh not in self.plan.held_ip})
        else:
            targets = sorted(totals)
        for wh in targets:
            prev = old.get(wh) if old else None
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
    ) -> tuple[Any, ...]:
        """An ip_stock row in IP_COLUMNS order; a row sent this run carries it as pending."""
        now = self.plan.now
        if action is None or not self.plan.advanced:
            return (sku, wh, value or 0.0, live, now, None, False, None)
        sent = action[1] if action[0] == "stock" else None
        self._stock_csv(rules.stock_row(sku, wh, sent, now=now))
        self.counts.sent += 1
        return (sku, wh, value or 0.0, live, now, sent, sent is None, self.plan.run_id)

    def _variant(self, e: ItemEval, prev: Stored | None) -> tuple[str, bool] | None:
        """The variant row when IP must hear of the item; (hash, removed) to store as pending."""
        new_hash = rules.variant_hash(e.sku, e.title, e.barcode, removed=not e.live)
        action = rules.variant_action(
            prev.sent_hash if prev else None, bool(prev and prev.sent_removed), e.live, new_hash
        )
        if action is None or not self.plan.advanced:
            return None
        now = self.plan.now
        created = rules.sap_datetime(e.item.get("CreateDate"), None, self.plan.zone) or now
        removed = action == "removed"
        self._variant_csv(
            rules.variant_row(e.sku, e.title, e.barcode, created=created, now=now, removed=removed)
        )
        self.counts.sent += 1
        return new_hash, removed

    def _item_row(self, e: ItemEval, digest: str | None, pending: tuple[str, bool] | None) -> tuple[Any, ...]:
        """The item's upsert in ITEM_COLUMNS order; the variant row this run spooled for it (if
        any) rides along as pending."""
        return (
            e.sku,
            e.title[:200],
            e.barcode,
            e.group,
            float(e.item.get("AvgStdPrice") or 0.0),
            e.live,
            e.exclusion or (rules.UNMAPPED_CATEGORY if e.held else None),
            str(e.item.get("CreateDate") or "")[:10] or None,
            e.updated,
            self.plan.now,
            None,  # missing_since: a row seen again is never missing
            digest,
            pending[0] if pending else None,
            pending[1] if pending else False,
            self.plan.run_id if pending else None,
        )

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
            self._ip_stock(sku, False, {}, old_ip.get(sku), batch)
            gone = ItemEval(
                sku,
                {"ItemCode": sku, "CreateDate": item.sap_created},
                MISSING_IN_SAP,
                False,
                item.name or sku,
                item.barcode,
                [],
                {},
                item.group_code,
                None,
            )
            pending = self._variant(gone, item)
            if pending is not None:
                batch.pending[sku] = pending
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


# The columns of the rows the engine writes, in the order of its tuples.
SNAPSHOT_COLUMNS = (
    "sku", "sap_warehouse", "on_hand", "committed", "ordered", "available", "ip_warehouse_id",
    "excluded_rule", "sap_updated_at", "seen_at", "changed_at",
)  # fmt: skip
IP_COLUMNS = (
    "sku", "ip_warehouse_id", "sap_available", "live", "changed_at", "pending_value", "pending_removed",
    "pending_run_id",
)  # fmt: skip
ITEM_COLUMNS = (
    "sku", "name", "barcode", "group_code", "avg_price", "live", "excluded_rule", "sap_created",
    "sap_updated_at", "seen_at", "missing_since", "digest", "pending_hash", "pending_removed",
    "pending_run_id",
)  # fmt: skip
# The item columns compared with the stored row (seen_at always moves; a row seen again is never
# missing), with their places in an item row.
_ITEM_FIELDS = tuple(
    (name, ITEM_COLUMNS.index(name))
    for name in (
        "name", "barcode", "group_code", "avg_price", "live", "excluded_rule", "sap_created",
        "sap_updated_at", "digest",
    )
)  # fmt: skip


def _same_item(prev: Stored, row: tuple[Any, ...]) -> bool:
    return prev.missing_since is None and all(getattr(prev, f) == row[i] for f, i in _ITEM_FIELDS)


@dataclass
class _Batch:
    """The rows one page writes, in bulk: tuples in the *_COLUMNS orders."""

    run_id: str
    now: datetime
    items: list[tuple[Any, ...]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    snaps: list[tuple[Any, ...]] = field(default_factory=list)
    ips: list[tuple[Any, ...]] = field(default_factory=list)
    gone: list[tuple[str, str]] = field(default_factory=list)
    pending: dict[str, tuple[str, bool]] = field(default_factory=dict)  # items SAP no longer has

    async def write(self, session: AsyncSession) -> None:
        await repository.upsert_rows(session, ItemState, ITEM_COLUMNS, self.items, ["sku"])
        await repository.touch_items(session, self.seen, self.now)
        await repository.set_item_pending(session, self.pending, self.run_id)
        await repository.upsert_rows(
            session, StockSnapshot, SNAPSHOT_COLUMNS, self.snaps, ["sku", "sap_warehouse"]
        )
        await repository.upsert_rows(session, IpStock, IP_COLUMNS, self.ips, ["sku", "ip_warehouse_id"])
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

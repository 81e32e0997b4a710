"""All SQL of the sync: runs, watermarks, snapshots. Bulk upserts keep a 100k-item run to a few
hundred statements instead of a million ORM flushes."""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, Table, and_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.base import UTCDateTime
from app.models.sync import (
    IpStock,
    IpWarehouseState,
    ItemState,
    PoReceipt,
    RunStatus,
    SapWarehouse,
    StockSnapshot,
    SyncRun,
    SyncWatermark,
)


class _MemoUTCDateTime(UTCDateTime):
    """UTCDateTime whose bind conversion is remembered per value. A page's rows share a handful of
    timestamps (the run's clock, one SAP update time per item), and converting each one again —
    as_utc, then SQLite's string formatting — was ~40 % of a bulk write. Same stored values: the
    conversion is a pure function of the (hashable, immutable) datetime."""

    cache_ok = True

    def bind_processor(self, dialect: Any) -> Any:
        process = super().bind_processor(dialect)
        if process is None:
            return None
        memo: dict[Any, Any] = {}

        def cached(value: Any) -> Any:
            if value is None:
                return None
            hit = memo.get(value)
            if hit is None:
                if len(memo) >= 4096:
                    memo.clear()
                hit = memo[value] = process(value)
            return hit

        return cached


@functools.cache
def _write_table(model: type[SQLModel]) -> Table:
    """A copy of the model's table (defaults, keys) for bulk writes, its timestamps bound through
    _MemoUTCDateTime. Its own MetaData: the application's is never touched."""
    table: Table = model.__table__.to_metadata(MetaData())  # type: ignore[attr-defined]
    for c in table.columns:
        if isinstance(c.type, UTCDateTime):
            c.type = _MemoUTCDateTime()
    return table


async def upsert(
    session: AsyncSession, model: type[SQLModel], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE of dict rows; every row has the first row's keys."""
    if rows:
        columns = tuple(rows[0])
        await upsert_rows(session, model, columns, [tuple(r[c] for c in columns) for r in rows], keys)


async def upsert_rows(
    session: AsyncSession,
    model: type[SQLModel],
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    keys: Sequence[str],
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE of rows given as tuples in `columns` order, handed
    to the driver as plain tuples.

    The statement is compiled once per (dialect, table, columns); each column's bind processor
    (the same ones SQLAlchemy would apply) runs over the batch column by column. SQLAlchemy's own
    per-row parameter handling was the larger part of a first full run's CPU time.

    Rows go as multi-row VALUES, CHUNK_ROWS per statement, not as an executemany: on PostgreSQL
    one statement is one server round instead of a Bind/Execute per row; on SQLite the driver
    runs in aiosqlite's thread and gives up the GIL for every statement step, so an executemany
    of 2,500 rows waited 2,500 times for a busy event loop to hand it back. A key given twice
    keeps its last row, as an executemany would (PostgreSQL refuses a key twice in a statement)."""
    if not rows:
        return
    conn = await session.connection()
    sql, binds = _upsert_sql(conn.dialect, model, tuple(columns), tuple(keys))
    given = list(zip(*rows, strict=True))  # one tuple per given column
    values: list[Iterable[Any]] = []
    for name, process, default in binds:
        column = given[columns.index(name)] if default is _GIVEN else itertools.repeat(default, len(rows))
        values.append(column if process is None else map(process, column))
    tuples = list(zip(*values, strict=True))
    key_of = operator.itemgetter(*(i for i, (name, _, _) in enumerate(binds) if name in keys))
    if len(set(map(key_of, tuples))) < len(tuples):  # rare: the check runs in C, the fix does not
        tuples = list({key_of(t): t for t in tuples}.values())
    for start in range(0, len(tuples), CHUNK_ROWS):
        chunk = tuples[start : start + CHUNK_ROWS]
        flat = tuple(itertools.chain.from_iterable(chunk))
        await conn.exec_driver_sql(_multi_row(sql, len(binds), len(chunk)), flat)


# Rows per statement: 500 x the widest upsert (19 columns) stays far below both databases' bound
# parameter limits (32,766 and 32,767).
CHUNK_ROWS = 500
_VALUES = re.compile(r"VALUES (\((?:\?|\$\d+[^,)]*)(?:, (?:\?|\$\d+[^,)]*))*\))")
_NUMBERED = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=64)
def _multi_row(sql: str, width: int, count: int) -> str:
    """A one-row INSERT's `VALUES (...)` group repeated `count` times; numbered placeholders
    (`$1::VARCHAR`, PostgreSQL) are renumbered row by row, qmarks (SQLite) stay as they are."""
    match = _VALUES.search(sql)
    assert match, sql
    one = match.group(1)
    groups = [_NUMBERED.sub(lambda m, k=k: f"${int(m.group(1)) + k * width}", one) for k in range(count)]
    return f"{sql[: match.start(1)]}{', '.join(groups)}{sql[match.end(1) :]}"


@functools.cache
def _upsert_sql(
    dialect: Any, model: type[SQLModel], columns: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[str, list[tuple[str, Any, Any]]]:
    """The upsert's SQL in the dialect's paramstyle, and (column, bind processor, default or
    _GIVEN) in bind order."""
    table = _write_table(model)
    stmt = (pg_insert if dialect.name == "postgresql" else sqlite_insert)(table).values(
        {c: bindparam(c, type_=table.c[c].type) for c in columns}
    )
    updates = {c: stmt.excluded[c] for c in columns if c not in keys}
    stmt = (
        stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)
        if updates
        else stmt.on_conflict_do_nothing(index_elements=list(keys))
    )
    compiled = stmt.compile(dialect=dialect)
    binds = []
    for name in compiled.positiontup or []:
        column = table.c[name]
        default: Any = _GIVEN
        if name not in columns:  # SQLAlchemy adds the columns with defaults: ours are scalars
            if column.default is None or not column.default.is_scalar:
                raise ValueError(f"{table.name}.{name} has no scalar default")
            default = column.default.arg  # type: ignore[attr-defined]
        binds.append((name, column.type._cached_bind_processor(dialect), default))
    return compiled.string, binds


_GIVEN = object()  # the value comes from the rows, not from the column's default


# --- runs -------------------------------------------------------------------------------------------


async def add_active_run(session: AsyncSession, run: SyncRun) -> bool:
    """Insert a run holding the stream's active slot; False when another active run has it."""
    try:
        async with session.begin_nested():
            session.add(run)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def active_run(session: AsyncSession, stream: str) -> SyncRun | None:
    result = await session.exec(select(SyncRun).where(col(SyncRun.active_key) == stream))  # type: ignore[call-overload]
    return result.scalars().first()  # type: ignore[no-any-return]


async def get_run(session: AsyncSession, run_id: str) -> SyncRun | None:
    return await session.get(SyncRun, run_id)


async def list_runs(
    session: AsyncSession, *, stream: str | None, before: tuple[datetime, str] | None, limit: int
) -> list[SyncRun]:
    query = select(SyncRun).order_by(col(SyncRun.created_at).desc(), col(SyncRun.id).desc())  # type: ignore[attr-defined]
    if stream:
        query = query.where(col(SyncRun.stream) == stream)
    if before is not None:
        at, rid = before
        query = query.where(
            or_(col(SyncRun.created_at) < at, and_(col(SyncRun.created_at) == at, col(SyncRun.id) < rid))
        )
    result = await session.exec(query.limit(limit))  # type: ignore[call-overload]
    return list(result.scalars())


async def previous_run(session: AsyncSession, stream: str, run_id: str | None) -> SyncRun | None:
    """The stream's last finished run other than `run_id`."""
    query = select(SyncRun).where(col(SyncRun.stream) == stream, col(SyncRun.finished_at).is_not(None))  # type: ignore[union-attr]
    if run_id is not None:
        query = query.where(col(SyncRun.id) != run_id)
    query = query.order_by(col(SyncRun.finished_at).desc()).limit(1)  # type: ignore[union-attr]
    result = await session.exec(query)  # type: ignore[call-overload]
    return result.scalars().first()  # type: ignore[no-any-return]


async def last_success(session: AsyncSession, stream: str, mode: str | None = None) -> SyncRun | None:
    query = select(SyncRun).where(col(SyncRun.stream) == stream, col(SyncRun.status) == RunStatus.succeeded)
    if mode:
        query = query.where(col(SyncRun.mode) == mode)
    query = query.order_by(col(SyncRun.finished_at).desc()).limit(1)  # type: ignore[union-attr]
    result = await session.exec(query)  # type: ignore[call-overload]
    return result.scalars().first()  # type: ignore[no-any-return]


# --- watermarks -------------------------------------------------------------------------------------


async def watermark(session: AsyncSession, stream: str) -> datetime | None:
    row = await session.get(SyncWatermark, stream)
    return row.value if row else None


async def set_watermark(session: AsyncSession, stream: str, value: datetime, now: datetime) -> None:
    await upsert(session, SyncWatermark, [{"stream": stream, "value": value, "updated_at": now}], ["stream"])


# --- snapshots --------------------------------------------------------------------------------------


# The engine reads the stored rows of every page it evaluates: plain Core rows (attribute access)
# of the columns it compares, not ORM objects, so no identity map, no object construction and no
# timestamp conversion for columns it never looks at. Keyed by SKU, then by warehouse, so an item
# finds its own rows without scanning the page's.
Stored = Any
_ITEM_COLUMNS = (
    "sku", "name", "barcode", "group_code", "avg_price", "live", "excluded_rule", "sap_created",
    "sap_updated_at", "missing_since", "digest", "sent_hash", "sent_removed",
)  # fmt: skip
_SNAPSHOT_COLUMNS = (
    "sku", "sap_warehouse", "on_hand", "committed", "ordered", "ip_warehouse_id", "excluded_rule",
)  # fmt: skip
_IP_COLUMNS = ("sku", "ip_warehouse_id", "sap_available", "live", "sent_value", "sent_removed")


async def _by_skus(session: AsyncSession, model: Any, columns: Sequence[str], skus: Sequence[str]) -> Any:
    table = model.__table__
    query = select(*(table.c[c] for c in columns)).where(table.c.sku.in_(list(skus)))
    return await session.exec(query)  # type: ignore[call-overload]


def _nested(rows: Iterable[Stored], second: str) -> dict[str, dict[str, Stored]]:
    out: dict[str, dict[str, Stored]] = {}
    for r in rows:
        out.setdefault(r.sku, {})[getattr(r, second)] = r
    return out


async def prefer_key_lookups(session: AsyncSession) -> None:
    """For this transaction, PostgreSQL looks a page's SKUs up by primary key. Its planner costs
    a seq scan below 500 index probes for these tables' sizes (and a table filling up during a
    first run has no statistics yet), and a seq scan per page made a full run quadratic: 100k
    items took 107 s, most of it in these reads."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL enable_seqscan = off"))


async def item_digests(session: AsyncSession, skus: Sequence[str]) -> dict[str, str | None]:
    """sku -> stored digest of the items stored; None for one missing in SAP (never unchanged)."""
    table = ItemState.__table__  # type: ignore[attr-defined]
    query = select(table.c.sku, table.c.digest, table.c.missing_since.is_(None)).where(
        table.c.sku.in_(list(skus))
    )
    return {sku: digest if present else None for sku, digest, present in await session.execute(query)}


async def items(session: AsyncSession, skus: Sequence[str]) -> dict[str, Stored]:
    return {r.sku: r for r in await _by_skus(session, ItemState, _ITEM_COLUMNS, skus)}


async def snapshots(session: AsyncSession, skus: Sequence[str]) -> dict[str, dict[str, Stored]]:
    """sku -> SAP warehouse -> stored snapshot row."""
    return _nested(await _by_skus(session, StockSnapshot, _SNAPSHOT_COLUMNS, skus), "sap_warehouse")


async def ip_stock(session: AsyncSession, skus: Sequence[str]) -> dict[str, dict[str, Stored]]:
    """sku -> IP warehouse -> stored ip_stock row."""
    return _nested(await _by_skus(session, IpStock, _IP_COLUMNS, skus), "ip_warehouse_id")


async def touch_items(session: AsyncSession, skus: Sequence[str], now: datetime) -> None:
    """Items read unchanged: only `seen_at` moves, in one statement instead of a row upsert each."""
    if skus:
        table = ItemState.__table__  # type: ignore[attr-defined]
        await session.execute(update(table).where(table.c.sku.in_(list(skus))).values(seen_at=now))


async def delete_snapshots(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> None:
    if keys:
        table = StockSnapshot.__table__  # type: ignore[attr-defined]
        stmt = delete(table).where(table.c.sku == bindparam("k"), table.c.sap_warehouse == bindparam("w"))
        await session.execute(stmt, [{"k": k, "w": w} for k, w in keys])


async def missing_skus(session: AsyncSession, seen_before: datetime, after: str, limit: int) -> list[str]:
    """Items a full run did not see (so SAP deleted them), key-set paged by SKU."""
    query = (
        select(col(ItemState.sku))
        .where(col(ItemState.seen_at) < seen_before, col(ItemState.sku) > after)
        .order_by(col(ItemState.sku))
        .limit(limit)
    )
    result = await session.exec(query)  # type: ignore[call-overload]
    return list(result.scalars())


async def promote_pending(session: AsyncSession, run_id: str, now: datetime, files: dict[str, str]) -> None:
    """Second phase: what the run queued is now what IP was sent."""
    await session.exec(
        update(IpStock)
        .where(col(IpStock.pending_run_id) == run_id)
        .values(  # type: ignore[call-overload]
            sent_value=col(IpStock.pending_value),
            sent_removed=col(IpStock.pending_removed),
            sent_at=now,
            sent_file=files.get("variant-warehouses"),
            pending_run_id=None,
        )
    )
    await session.exec(
        update(ItemState)
        .where(col(ItemState.pending_run_id) == run_id)
        .values(  # type: ignore[call-overload]
            sent_hash=col(ItemState.pending_hash),
            sent_removed=col(ItemState.pending_removed),
            sent_at=now,
            pending_run_id=None,
        )
    )


async def set_item_pending(session: AsyncSession, pending: dict[str, tuple[str, bool]], run_id: str) -> None:
    """Variant rows this run spooled (executemany: one round trip for the page)."""
    if not pending:
        return
    table = ItemState.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(table.c.sku == bindparam("k"))
        .values(pending_hash=bindparam("h"), pending_removed=bindparam("r"), pending_run_id=run_id)
    )
    await session.execute(stmt, [{"k": k, "h": h, "r": r} for k, (h, r) in pending.items()])


async def mark_missing(session: AsyncSession, skus: Sequence[str], now: datetime) -> None:
    await session.exec(
        update(ItemState)
        .where(
            col(ItemState.sku).in_(list(skus)),  # type: ignore[call-overload, attr-defined]
            col(ItemState.missing_since).is_(None),
        )  # type: ignore[union-attr]
        .values(missing_since=now, live=False, excluded_rule="missing_in_sap")
    )


async def sap_warehouses(session: AsyncSession) -> list[SapWarehouse]:
    result = await session.exec(select(SapWarehouse).order_by(col(SapWarehouse.code)))  # type: ignore[call-overload]
    return list(result.scalars())


async def warehouse_states(session: AsyncSession) -> dict[str, IpWarehouseState]:
    result = await session.exec(select(IpWarehouseState))  # type: ignore[call-overload]
    return {r.ip_warehouse_id: r for r in result.scalars()}


async def warehouse_totals(session: AsyncSession) -> list[tuple[str, str | None, float, int]]:
    """(SAP warehouse, exclusion, positive available, SKUs with stock) over the current snapshot."""
    query = (
        select(
            col(StockSnapshot.sap_warehouse),
            col(StockSnapshot.excluded_rule),
            func.sum(col(StockSnapshot.available)),
            func.count(),
        )
        .where(col(StockSnapshot.available) > 0)
        .group_by(col(StockSnapshot.sap_warehouse), col(StockSnapshot.excluded_rule))
    )
    result = await session.exec(query)  # type: ignore[call-overload]
    return [(r[0], r[1], float(r[2] or 0), int(r[3])) for r in result.all()]


async def sample_skus(session: AsyncSession, sap_warehouse: str, limit: int = 10) -> list[str]:
    query = (
        select(col(StockSnapshot.sku))
        .where(col(StockSnapshot.sap_warehouse) == sap_warehouse, col(StockSnapshot.available) > 0)
        .order_by(col(StockSnapshot.available).desc())
        .limit(limit)
    )  # type: ignore[attr-defined]
    result = await session.exec(query)  # type: ignore[call-overload]
    return list(result.scalars())


async def group_counts(session: AsyncSession) -> dict[int | None, int]:
    query = (
        select(col(ItemState.group_code), func.count())
        .where(col(ItemState.missing_since).is_(None))  # type: ignore[union-attr]
        .group_by(col(ItemState.group_code))
    )
    result = await session.exec(query)  # type: ignore[call-overload]
    return {r[0]: int(r[1]) for r in result.all()}


async def excluded_items(session: AsyncSession, rules_: Sequence[str]) -> list[Any]:
    """(sku, excluded_rule, ip_removed, sent_hash, sent_removed) of the items excluded by one of
    `rules_`: the only ones INACTIVE_ITEM can concern (a scan of every item object took seconds)."""
    t = ItemState.__table__  # type: ignore[attr-defined]
    query = (
        select(t.c.sku, t.c.excluded_rule, t.c.ip_removed, t.c.sent_hash, t.c.sent_removed)
        .where(t.c.excluded_rule.in_(list(rules_)))
        .order_by(t.c.sku)
    )
    return list(await session.execute(query))


async def drift_candidates(session: AsyncSession, abs_tolerance: float) -> list[Any]:
    """(sku, ip_warehouse_id, sap_available, ip_in_stock, avg_price, ip_seen_at) of live IP rows
    whose two figures differ by more than `abs_tolerance`: the detector's own first condition, so
    the rest of the table (stock in step with IP) is never read."""
    s, i = IpStock.__table__, ItemState.__table__  # type: ignore[attr-defined]
    columns = (s.c.sku, s.c.ip_warehouse_id, s.c.sap_available, s.c.ip_in_stock, i.c.avg_price)
    query = (
        select(*columns, s.c.ip_seen_at)
        .select_from(s.outerjoin(i, i.c.sku == s.c.sku))
        .where(
            s.c.live.is_(True),
            s.c.ip_in_stock.is_not(None),
            func.abs(s.c.sap_available - s.c.ip_in_stock) > abs_tolerance,
        )
        .order_by(s.c.sku, s.c.ip_warehouse_id)
    )
    return list(await session.execute(query))


async def receipts(session: AsyncSession, po_id: str) -> dict[str, PoReceipt]:
    result = await session.exec(select(PoReceipt).where(col(PoReceipt.ip_po_id) == po_id))  # type: ignore[call-overload]
    return {r.ip_line_id: r for r in result.scalars()}


async def last_run(session: AsyncSession, stream: str) -> SyncRun | None:
    query = (
        select(SyncRun).where(col(SyncRun.stream) == stream).order_by(col(SyncRun.created_at).desc()).limit(1)
    )  # type: ignore[attr-defined]
    result = await session.exec(query)  # type: ignore[call-overload]
    return result.scalars().first()  # type: ignore[no-any-return]


async def set_ip_view(
    session: AsyncSession, removed_by_sku: dict[str, bool], stock: list[dict[str, Any]], now: datetime
) -> None:
    """IP's own figures (reconcile), written with executemany updates: rows IP has that we never
    sent are not ours to create."""
    items_t, stock_t = ItemState.__table__, IpStock.__table__  # type: ignore[attr-defined]
    if removed_by_sku:
        stmt = (
            update(items_t)
            .where(items_t.c.sku == bindparam("k"))
            .values(ip_removed=bindparam("r"), ip_seen_at=now)
        )
        await session.execute(stmt, [{"k": k, "r": r} for k, r in removed_by_sku.items()])
    if stock:
        stmt = (
            update(stock_t)
            .where(stock_t.c.sku == bindparam("k"), stock_t.c.ip_warehouse_id == bindparam("w"))
            .values(ip_in_stock=bindparam("v"), ip_seen_at=now)
        )
        await session.execute(stmt, [{"k": s["sku"], "w": s["wh"], "v": s["in_stock"]} for s in stock])


async def sku_index(session: AsyncSession) -> dict[str, tuple[bool, datetime | None]]:
    query = select(col(ItemState.sku), col(ItemState.live), col(ItemState.sent_at)).where(
        col(ItemState.missing_since).is_(None)
    )  # type: ignore[union-attr]
    result = await session.exec(query)  # type: ignore[call-overload]
    return {r[0]: (bool(r[1]), r[2]) for r in result.all()}


async def first_run(session: AsyncSession, stream: str) -> SyncRun | None:
    query = select(SyncRun).where(col(SyncRun.stream) == stream).order_by(col(SyncRun.created_at)).limit(1)  # type: ignore[arg-type]
    result = await session.exec(query)  # type: ignore[call-overload]
    return result.scalars().first()  # type: ignore[no-any-return]

"""SQL for webhook deliveries: Core statements on the hot path (an INSERT for the delivery, one
for its jobs), no ORM units of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.params import one_of
from app.models.outbox import OutboxMessage
from app.models.webhook import WebhookDelivery

TABLE: Table = WebhookDelivery.__table__  # type: ignore[attr-defined]
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
# Built once; the values go in as execute parameters, so the compiled form is cached too.
_INSERT_NEW = {
    name: dialect.insert(TABLE).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(TABLE.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_BY_KEYS = select(TABLE.c.dedupe_key, TABLE.c.id, TABLE.c.po_ids).where(one_of(TABLE.c.dedupe_key, "keys"))


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Store the deliveries whose dedupe key is new; the ids of those stored.

    INSERT ... ON CONFLICT DO NOTHING RETURNING id, for all of them in one statement: a duplicate
    (of a stored delivery, or of one earlier in `rows`) inserts nothing and returns nothing, with
    no savepoint, and the unique key settles races between concurrent batches.
    """
    connection = await session.connection()
    result = await connection.execute(_INSERT_NEW[connection.dialect.name], rows)
    return set(result.scalars())


async def by_dedupe_keys(session: AsyncSession, keys: list[str]) -> dict[str, tuple[str, list[str]]]:
    """(id, po_ids) of the stored delivery with each dedupe key."""
    connection = await session.connection()
    rows = await connection.execute(_BY_KEYS, {"keys": list(set(keys))})
    return {row.dedupe_key: (row.id, list(row.po_ids)) for row in rows}


async def add_jobs(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Outbox rows for deliveries just stored, in one INSERT.

    `outbox.enqueue` looks each job id up first and builds an ORM object; here the job ids name
    the new deliveries, so none can exist yet, and the lookup was a third of the request's cost.
    """
    if rows:
        connection = await session.connection()
        await connection.execute(OUTBOX.insert(), rows)


def _pending_jobs_of_delivery() -> Any:
    # The delivery's ingest jobs are named `ingest:{po_id}:{delivery_id}` (service.store).
    return (
        select(OUTBOX.c.id)
        .where(OUTBOX.c.enqueued_at.is_(None))
        .where(OUTBOX.c.job_id.like(literal("ingest:%:") + TABLE.c.id))
        .exists()
    )


async def processed_before(session: AsyncSession, cutoff: datetime, *, limit: int) -> list[str]:
    """Ids of deliveries received before `cutoff` none of whose jobs still wait in the outbox."""
    connection = await session.connection()
    statement = (
        select(TABLE.c.id)
        .where(TABLE.c.received_at < cutoff)
        .where(~_pending_jobs_of_delivery())
        .order_by(TABLE.c.received_at)
        .limit(limit)
    )
    return list((await connection.execute(statement)).scalars())


async def delete_ids(session: AsyncSession, ids: list[str]) -> int:
    connection = await session.connection()
    result = await connection.execute(delete(TABLE).where(TABLE.c.id.in_(ids)))
    return int(result.rowcount)

"""SQL for SAP writes, attempts, documents and stock adjustments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.params import one_of
from app.kit.time import utcnow
from app.models.writeback import SapDocument, SapWrite, StockAdjustment, WriteAttempt, WriteStatus

# The write-back batches' statements, built once (app.db.params).
_WRITES = select(SapWrite).where(one_of(SapWrite.id, "ids"))
_DOCUMENTS = select(SapDocument).where(one_of(SapDocument.ext_ref, "refs"))
_STATUSES = select(SapWrite.source_id, SapWrite.status).where(one_of(SapWrite.source_id, "ids"))
_UNRESOLVED = (
    select(WriteAttempt.ext_ref)
    .where(one_of(WriteAttempt.ext_ref, "refs"), col(WriteAttempt.outcome).is_(None))
    .distinct()
)
_CLOSE_ATTEMPTS = (
    update(WriteAttempt)
    .where(one_of(WriteAttempt.write_id, "ids"), col(WriteAttempt.outcome).is_(None))
    .values(outcome=bindparam("set_outcome"), finished_at=bindparam("set_finished_at"))
)


async def get_write(session: AsyncSession, write_id: str) -> SapWrite | None:
    return await session.get(SapWrite, write_id, populate_existing=True)


async def get_writes(session: AsyncSession, write_ids: Iterable[str]) -> dict[str, SapWrite]:
    result = await session.exec(_WRITES, params={"ids": list(set(write_ids))})
    return {write.id: write for write in result.all()}


async def insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT of column dicts (no ORM objects: building them was a third of a
    batch's cost)."""
    if rows:
        await session.execute(insert(model.__table__), rows)


async def update_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """UPDATE … WHERE id = row["id"] for column dicts; one executemany per distinct set of columns."""
    table = model.__table__
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(k for k in row if k != "id"), []).append(row)
    for columns, group in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({c: bindparam(f"set_{c}") for c in columns})
        )
        params = [{"row_id": r["id"], **{f"set_{c}": r[c] for c in columns}} for r in group]
        await session.execute(statement, params)


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


async def writes_for_source(session: AsyncSession, source_id: str) -> list[SapWrite]:
    result = await session.exec(
        select(SapWrite).where(SapWrite.source_id == source_id).order_by(col(SapWrite.created_at))
    )
    return list(result.all())


async def writes_for_ext_ref(
    session: AsyncSession, ext_ref: str, statuses: Iterable[WriteStatus] | None = None
) -> list[SapWrite]:
    query = select(SapWrite).where(SapWrite.ext_ref == ext_ref)
    if statuses is not None:
        query = query.where(col(SapWrite.status).in_(list(statuses)))
    result = await session.exec(query.order_by(col(SapWrite.created_at)))
    return list(result.all())


async def documents_for_ext_refs(
    session: AsyncSession, ext_refs: Iterable[str]
) -> dict[tuple[str, str], SapDocument]:
    """By (entity, ext_ref): one query for a batch of writes."""
    result = await session.exec(_DOCUMENTS, params={"refs": list(set(ext_refs))})
    return {(doc.entity, doc.ext_ref): doc for doc in result.all()}


async def statuses_for_sources(
    session: AsyncSession, source_ids: Iterable[str]
) -> dict[str, list[WriteStatus]]:
    result = await session.exec(_STATUSES, params={"ids": list(set(source_ids))})
    found: dict[str, list[WriteStatus]] = {}
    for source_id, status in result.all():
        found.setdefault(source_id, []).append(WriteStatus(status))
    return found


async def documents_for_source(session: AsyncSession, source_id: str) -> list[SapDocument]:
    result = await session.exec(select(SapDocument).where(SapDocument.source_id == source_id))
    return list(result.all())


async def unresolved_ext_refs(session: AsyncSession, ext_refs: Iterable[str]) -> set[str]:
    """The external references with a SAP call that started and never recorded an outcome: their
    documents may exist."""
    result = await session.exec(_UNRESOLVED, params={"refs": list(set(ext_refs))})
    return set(result.all())


async def attempts_for(session: AsyncSession, write_ids: list[str]) -> list[WriteAttempt]:
    result = await session.exec(
        select(WriteAttempt)
        .where(col(WriteAttempt.write_id).in_(write_ids))
        .order_by(col(WriteAttempt.started_at))
    )
    return list(result.all())


async def open_attempts(session: AsyncSession, write_id: str) -> list[WriteAttempt]:
    result = await session.exec(
        select(WriteAttempt).where(WriteAttempt.write_id == write_id, col(WriteAttempt.outcome).is_(None))
    )
    return list(result.all())


async def adjustment_by_key(session: AsyncSession, key: str) -> StockAdjustment | None:
    result = await session.exec(select(StockAdjustment).where(StockAdjustment.idempotency_key == key))
    return result.first()


async def insert_adjustment(session: AsyncSession, row: StockAdjustment) -> bool:
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def close_open_attempts(session: AsyncSession, write_ids: Iterable[str], outcome: str) -> None:
    """Every attempt of the writes still without an outcome (this one, and any an earlier run left
    open) gets `outcome`: one UPDATE instead of loading each row."""
    params = {"ids": list(set(write_ids)), "set_outcome": outcome, "set_finished_at": utcnow()}
    await session.execute(_CLOSE_ATTEMPTS, params)

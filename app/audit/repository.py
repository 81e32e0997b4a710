from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.audit import AuditEntry


async def add(session: AsyncSession, entry: AuditEntry) -> AuditEntry:
    session.add(entry)
    await session.flush()
    return entry


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(AuditEntry), rows)


async def page(session: AsyncSession, *, entity_type: str | None, entity_id: str | None,
                actor: str | None, after: tuple[datetime, str] | None, limit: int) -> Sequence[AuditEntry]:
    at, ident = col(AuditEntry.at), col(AuditEntry.id)
    statement = select(AuditEntry).order_by(at.desc(), ident.desc()).limit(limit)
    for column, value in ((AuditEntry.entity_type, entity_type), (AuditEntry.entity_id, entity_id),
                          (AuditEntry.actor, actor)):
        if value is not None:
            statement = statement.where(col(column) == value)
    if after is not None:
        statement = statement.where(or_(at < after[0], and_(at == after[0], ident < after[1])))
    return (await session.exec(statement)).all()

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.audit import AuditEntry


async def add(session: AsyncSession, entry: AuditEntry) -> AuditEntry:
    session.add(entry)
    await session.flush()
    return entry


async def for_entity(session: AsyncSession, entity_type: str, entity_id: str) -> list[AuditEntry]:
    statement = (
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.at)  # type: ignore[arg-type]
    )
    return list((await session.exec(statement)).all())


async def recent(session: AsyncSession, *, limit: int, entity_type: str | None = None) -> list[AuditEntry]:
    statement = select(AuditEntry).order_by(AuditEntry.at.desc()).limit(limit)  # type: ignore[attr-defined]
    if entity_type:
        statement = statement.where(AuditEntry.entity_type == entity_type)
    return list((await session.exec(statement)).all())

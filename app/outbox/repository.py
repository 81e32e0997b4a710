from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.outbox import OutboxMessage


async def by_job_id(session: AsyncSession, job_id: str) -> OutboxMessage | None:
    return (await session.exec(select(OutboxMessage).where(OutboxMessage.job_id == job_id))).first()


async def add(session: AsyncSession, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    await session.flush()
    return message


async def pending(session: AsyncSession, *, limit: int) -> list[OutboxMessage]:
    statement = (
        select(OutboxMessage)
        .where(col(OutboxMessage.enqueued_at).is_(None))
        .order_by(col(OutboxMessage.created_at))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def count_pending(session: AsyncSession) -> int:
    return len(await pending(session, limit=10_000))

"""SQL for webhook deliveries."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.webhook import WebhookDelivery


async def by_dedupe_key(session: AsyncSession, key: str) -> WebhookDelivery | None:
    result = await session.exec(select(WebhookDelivery).where(WebhookDelivery.dedupe_key == key))
    return result.first()


async def insert(session: AsyncSession, delivery: WebhookDelivery) -> bool:
    """False when a concurrent request stored the same delivery first (unique dedupe key)."""
    try:
        async with session.begin_nested():
            session.add(delivery)
            await session.flush()
    except IntegrityError:
        return False
    return True

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.api_key import ApiKey


async def by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    result = await session.exec(select(ApiKey).where(ApiKey.key_hash == key_hash))
    return result.first()


async def add(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    return key


async def list_all(session: AsyncSession) -> list[ApiKey]:
    result = await session.exec(select(ApiKey).order_by(ApiKey.created_at))  # type: ignore[arg-type]
    return list(result.all())


async def get(session: AsyncSession, key_id: str) -> ApiKey | None:
    return await session.get(ApiKey, key_id)

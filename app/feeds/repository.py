"""SQL of the feeds: the delivery log, Starter connectors and snapshot pointers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.feeds import DeliveryStatus, FeedDelivery, StarterConnector, StarterSnapshot
from app.models.sync import IpStock, ItemState


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


async def queued(session: AsyncSession, limit: int = 200) -> list[FeedDelivery]:
    """Oldest first, and within a run in dependency order (warehouses, variants, stock)."""
    query = (
        select(FeedDelivery)
        .where(col(FeedDelivery.status) == DeliveryStatus.queued)
        .order_by(col(FeedDelivery.created_at), col(FeedDelivery.ordinal))
        .limit(limit)
    )
    return list((await session.exec(query)).scalars())  # type: ignore[call-overload]


async def count(
    session: AsyncSession, *, status: DeliveryStatus, created_before: datetime | None = None
) -> int:
    query = select(func.count()).select_from(FeedDelivery).where(col(FeedDelivery.status) == status)
    if created_before is not None:
        query = query.where(col(FeedDelivery.created_at) < created_before)
    return int((await session.exec(query)).scalar_one())  # type: ignore[call-overload]


async def recent(session: AsyncSession, limit: int) -> list[FeedDelivery]:
    query = select(FeedDelivery).order_by(
        col(FeedDelivery.created_at).desc(), col(FeedDelivery.ordinal).desc()
    )
    return list((await session.exec(query.limit(limit))).scalars())  # type: ignore[call-overload]


async def connector(session: AsyncSession, name: str) -> StarterConnector | None:
    query = select(StarterConnector).where(col(StarterConnector.name) == name)
    return (await session.exec(query)).scalars().first()  # type: ignore[call-overload, no-any-return]


async def connectors(session: AsyncSession) -> list[StarterConnector]:
    query = select(StarterConnector).order_by(col(StarterConnector.name))
    return list((await session.exec(query)).scalars())  # type: ignore[call-overload]


async def snapshot(session: AsyncSession, ip_warehouse_id: str) -> StarterSnapshot | None:
    return await session.get(StarterSnapshot, ip_warehouse_id)


async def starter_rows(
    session: AsyncSession, ip_warehouse_id: str, after: str, limit: int
) -> list[tuple[IpStock, ItemState]]:
    query = (
        select(IpStock, ItemState)
        .join(ItemState, col(ItemState.sku) == col(IpStock.sku))
        .where(
            col(IpStock.ip_warehouse_id) == ip_warehouse_id,
            col(IpStock.live).is_(True),
            col(IpStock.sku) > after,
        )
        .order_by(col(IpStock.sku))
        .limit(limit)
    )
    return [(r[0], r[1]) for r in (await session.exec(query)).all()]  # type: ignore[call-overload]

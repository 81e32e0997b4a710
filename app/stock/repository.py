"""SQL of /stock: snapshot rows joined with what was sent and what IP reported."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.sync import IpStock, ItemState, StockSnapshot

_JOIN = and_(
    col(IpStock.sku) == col(StockSnapshot.sku),
    col(IpStock.ip_warehouse_id) == col(StockSnapshot.ip_warehouse_id),
)


async def rows(
    session: AsyncSession,
    *,
    sku: str | None = None,
    sap_warehouse: str | None = None,
    ip_warehouse: str | None = None,
    changed_since: datetime | None = None,
    drifting: bool = False,
    after: tuple[str, str] | None = None,
    limit: int = 100,
) -> list[tuple[StockSnapshot, IpStock | None]]:
    query = select(StockSnapshot, IpStock).outerjoin(IpStock, _JOIN)
    filters: list[Any] = []
    if sku:
        filters.append(col(StockSnapshot.sku) == sku)
    if sap_warehouse:
        filters.append(col(StockSnapshot.sap_warehouse) == sap_warehouse)
    if ip_warehouse:
        filters.append(col(StockSnapshot.ip_warehouse_id) == ip_warehouse)
    if changed_since:
        filters.append(col(StockSnapshot.changed_at) >= changed_since)
    if drifting:
        filters.append(
            and_(
                col(IpStock.ip_in_stock).is_not(None), col(IpStock.ip_in_stock) != col(IpStock.sap_available)
            )
        )
    if after:
        filters.append(
            or_(
                col(StockSnapshot.sku) > after[0],
                and_(col(StockSnapshot.sku) == after[0], col(StockSnapshot.sap_warehouse) > after[1]),
            )
        )
    query = (
        query.where(*filters).order_by(col(StockSnapshot.sku), col(StockSnapshot.sap_warehouse)).limit(limit)
    )
    return [(r[0], r[1]) for r in (await session.exec(query)).all()]  # type: ignore[call-overload]


async def item(session: AsyncSession, sku: str) -> ItemState | None:
    return await session.get(ItemState, sku)


async def ip_rows(session: AsyncSession, sku: str) -> list[IpStock]:
    query = select(IpStock).where(col(IpStock.sku) == sku).order_by(col(IpStock.ip_warehouse_id))
    return list((await session.exec(query)).scalars())  # type: ignore[call-overload]



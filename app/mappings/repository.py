"""All SQL of the mapping tables (small tables: admins keep hundreds of rows, not millions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.mapping import VendorMapping, WarehouseMapping

M = TypeVar("M", bound=SQLModel)


async def all_rows(session: AsyncSession, model: type[M], *, order_by: str) -> Sequence[M]:
    return (await session.exec(select(model).order_by(col(getattr(model, order_by))))).all()


async def by_key(session: AsyncSession, model: type[M], key: str, value: Any) -> M | None:
    return (await session.exec(select(model).where(col(getattr(model, key)) == value))).first()


async def add(session: AsyncSession, row: SQLModel) -> None:
    session.add(row)
    await session.flush()


async def flush(session: AsyncSession) -> None:
    await session.flush()


async def delete(session: AsyncSession, row: SQLModel) -> None:
    await session.delete(row)
    await session.flush()


async def active_warehouses(session: AsyncSession) -> Sequence[WarehouseMapping]:
    statement = select(WarehouseMapping).where(col(WarehouseMapping.active).is_(True))
    return (await session.exec(statement.order_by(col(WarehouseMapping.sap_warehouse_code)))).all()


async def warehouses_for_ip(session: AsyncSession, ip_warehouse_id: str) -> Sequence[WarehouseMapping]:
    statement = select(WarehouseMapping).where(WarehouseMapping.ip_warehouse_id == ip_warehouse_id,
                                               col(WarehouseMapping.active).is_(True))
    return (await session.exec(statement.order_by(col(WarehouseMapping.sap_warehouse_code)))).all()


async def vendor(session: AsyncSession, ip_vendor: str) -> VendorMapping | None:
    return (await session.exec(select(VendorMapping).where(VendorMapping.ip_vendor == ip_vendor))).first()

"""/stock (read scope): the snapshot, one SKU in detail, and the drift report."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request

from app.auth.deps import ReadDep
from app.db.session import SessionDep
from app.stock import service
from app.stock.schemas import DriftReport, SkuOut, StockPage

router = APIRouter(prefix="/stock", tags=["stock"])


@router.get("", response_model=StockPage)
async def list_stock(
    session: SessionDep,
    principal: ReadDep,
    sku: str | None = None,
    sap_warehouse: str | None = None,
    ip_warehouse: str | None = None,
    changed_since: datetime | None = None,
    drifting_only: bool = False,
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> StockPage:
    return await service.page(
        session,
        cursor=cursor,
        limit=limit,
        sku=sku,
        sap_warehouse=sap_warehouse,
        ip_warehouse=ip_warehouse,
        changed_since=service.changed_since_param(changed_since),
        drifting=drifting_only,
    )


@router.get("/drift", response_model=DriftReport)
async def drift(
    request: Request,
    session: SessionDep,
    principal: ReadDep,
    sort: Literal["value", "difference", "sku"] = "value",
    limit: int = Query(100, ge=1, le=5000),
) -> DriftReport:
    return await service.drift_report(session, request.app.state.settings, sort=sort, limit=limit)


@router.get("/{sku}", response_model=SkuOut)
async def get_sku(sku: str, session: SessionDep, principal: ReadDep) -> SkuOut:
    return await service.one(session, sku)

"""/stock: SAP's snapshot next to what IP was sent and what IP holds, and the drift report."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.errors import NotFound
from app.kit.pagination import decode_cursor, encode_cursor
from app.kit.time import as_utc, utcnow
from app.models.sync import IpStock, StockSnapshot
from app.stock import repository
from app.stock.schemas import DriftOut, DriftReport, IpWarehouseOut, SkuOut, StockPage, StockRowOut
from app.sync import monitor as sync_monitor


def _drift(ip: IpStock | None) -> float | None:
    if ip is None or ip.ip_in_stock is None:
        return None
    return ip.sap_available - ip.ip_in_stock


def _row(snap: StockSnapshot, ip: IpStock | None) -> StockRowOut:
    return StockRowOut(
        sku=snap.sku,
        sap_warehouse=snap.sap_warehouse,
        on_hand=snap.on_hand,
        committed=snap.committed,
        ordered=snap.ordered,
        available=snap.available,
        ip_warehouse_id=snap.ip_warehouse_id,
        excluded_by_rule=snap.excluded_rule,
        sent_value=ip.sent_value if ip else None,
        sent_at=ip.sent_at if ip else None,
        ip_in_stock=ip.ip_in_stock if ip else None,
        drift=_drift(ip),
        sap_updated_at=snap.sap_updated_at,
        changed_at=snap.changed_at,
    )


async def page(session: AsyncSession, *, cursor: str | None, limit: int, **filters: Any) -> StockPage:
    after = None
    if cursor:
        raw = decode_cursor(cursor)
        after = (str(raw["sku"]), str(raw["wh"]))
    found = await repository.rows(session, after=after, limit=limit + 1, **filters)
    more = len(found) > limit
    found = found[:limit]
    next_cursor = encode_cursor({"sku": found[-1][0].sku, "wh": found[-1][0].sap_warehouse}) if more else None
    return StockPage(items=[_row(s, i) for s, i in found], next_cursor=next_cursor)


async def one(session: AsyncSession, sku: str) -> SkuOut:
    item = await repository.item(session, sku)
    if item is None:
        raise NotFound(f"SKU {sku} is not known to b1bridge (never seen in SAP).")
    snaps = await repository.rows(session, sku=sku, limit=1000)
    ips = await repository.ip_rows(session, sku)
    return SkuOut(
        sku=sku,
        name=item.name,
        live=item.live,
        excluded_by_rule=item.excluded_rule,
        average_price=item.avg_price,
        seen_at=item.seen_at,
        data_age_seconds=int((utcnow() - as_utc(item.seen_at)).total_seconds()),
        sap_warehouses=[_row(s, i) for s, i in snaps],
        ip_warehouses=[_ip(i) for i in ips],
    )


def _ip(i: IpStock) -> IpWarehouseOut:
    return IpWarehouseOut(
        ip_warehouse_id=i.ip_warehouse_id,
        sap_available=i.sap_available,
        sent_value=i.sent_value,
        sent_removed=i.sent_removed,
        sent_at=i.sent_at,
        sent_file=i.sent_file,
        ip_in_stock=i.ip_in_stock,
        ip_seen_at=i.ip_seen_at,
        drift=_drift(i),
    )


async def drift_report(
    session: AsyncSession,
    settings: Settings,
    *,
    sort: Literal["value", "difference", "sku"] = "value",
    limit: int = 100,
) -> DriftReport:
    out = []
    for finding, ip_seen_at in await sync_monitor.drift(session, settings):
        e = finding.evidence
        out.append(
            DriftOut(
                sku=finding.subject["sku"],
                ip_warehouse_id=finding.subject["warehouse"],
                sap_available=float(e["sap_available"]),
                ip_in_stock=float(e["ip_in_stock"]),
                difference=float(e["difference"]),
                value_at_cost=float(e["value_at_cost"]),
                ip_seen_at=ip_seen_at,
            )
        )
    keys = {
        "value": lambda d: -d.value_at_cost,
        "difference": lambda d: -abs(d.difference),
        "sku": lambda d: (d.sku, d.ip_warehouse_id),
    }
    out.sort(key=keys[sort])  # type: ignore[arg-type]
    return DriftReport(
        items=out[:limit],
        total_value_at_cost=round(sum(d.value_at_cost for d in out), 2),
        abs_tolerance=settings.sync.drift_abs_tolerance,
        pct_tolerance=settings.sync.drift_pct_tolerance,
    )


def changed_since_param(value: datetime | None) -> datetime | None:
    return as_utc(value) if value else None

"""API shapes of /stock."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class StockRowOut(BaseModel):
    sku: str
    sap_warehouse: str
    on_hand: float
    committed: float
    ordered: float
    available: float
    ip_warehouse_id: str | None
    excluded_by_rule: str | None
    sent_value: float | None
    sent_at: datetime | None
    ip_in_stock: float | None
    drift: float | None
    sap_updated_at: datetime | None
    changed_at: datetime


class StockPage(BaseModel):
    items: list[StockRowOut]
    next_cursor: str | None


class IpWarehouseOut(BaseModel):
    ip_warehouse_id: str
    sap_available: float
    sent_value: float | None
    sent_removed: bool
    sent_at: datetime | None
    sent_file: str | None
    ip_in_stock: float | None
    ip_seen_at: datetime | None
    drift: float | None


class SkuOut(BaseModel):
    sku: str
    name: str
    live: bool
    excluded_by_rule: str | None
    average_price: float
    seen_at: datetime
    data_age_seconds: int
    sap_warehouses: list[StockRowOut]
    ip_warehouses: list[IpWarehouseOut]


class DriftOut(BaseModel):
    sku: str
    ip_warehouse_id: str
    sap_available: float
    ip_in_stock: float
    difference: float
    value_at_cost: float
    ip_seen_at: datetime | None


class DriftReport(BaseModel):
    items: list[DriftOut]
    total_value_at_cost: float
    abs_tolerance: float
    pct_tolerance: float

"""Mappings between SAP B1 codes and Inventory Planner ids, maintained by admins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import id_field, utc_field


class WarehouseMode(StrEnum):
    # direct: this SAP warehouse alone is the IP warehouse. aggregate: several SAP warehouses are
    # summed into one IP warehouse (allowed only when every mapping to it says aggregate).
    direct = "direct"
    aggregate = "aggregate"


class WarehouseMapping(SQLModel, table=True):
    __tablename__ = "warehouse_mappings"

    id: str = id_field()
    sap_warehouse_code: str = Field(max_length=8, unique=True)
    ip_warehouse_id: str = Field(max_length=100, index=True)
    ip_warehouse_name: str | None = Field(default=None, max_length=200)
    mode: WarehouseMode = Field(default=WarehouseMode.direct, sa_type=String(10))
    include_non_nettable: bool = False
    include_drop_ship: bool = False
    include_inactive: bool = False
    active: bool = True
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class ItemGroupMapping(SQLModel, table=True):
    __tablename__ = "item_group_mappings"

    id: str = id_field()
    sap_group_code: int = Field(unique=True)
    ip_category: str = Field(max_length=200)
    include_in_planning: bool = True
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class VendorMapping(SQLModel, table=True):
    __tablename__ = "vendor_mappings"

    id: str = id_field()
    ip_vendor: str = Field(max_length=200, unique=True)
    sap_card_code: str = Field(max_length=15, index=True)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()

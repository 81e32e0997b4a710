"""Mapping bodies. Input models validate every field, so bad input is a 422 listing the fields."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from app.kit.time import as_utc
from app.mappings import rules
from app.models.mapping import WarehouseMode


class MappingKind(StrEnum):
    warehouses = "warehouses"
    item_groups = "item-groups"
    vendors = "vendors"


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


SapWarehouseCode = Annotated[str, BeforeValidator(rules.warehouse_code)]
SapCardCode = Annotated[str, BeforeValidator(rules.card_code)]
Text100 = Annotated[str, BeforeValidator(_trimmed), Field(min_length=1, max_length=100)]
Text200 = Annotated[str, BeforeValidator(_trimmed), Field(min_length=1, max_length=200)]
GroupCode = Annotated[int, Field(ge=1, le=2_147_483_647, description="SAP ItmsGrpCod")]
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

_INPUT = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


# --- warehouses ---------------------------------------------------------------------------------

class WarehouseFields(BaseModel):
    model_config = _INPUT

    ip_warehouse_id: Text100 = Field(description="Inventory Planner warehouse id")
    ip_warehouse_name: Text200 | None = None
    mode: WarehouseMode = Field(
        default=WarehouseMode.direct,
        description="aggregate = several SAP warehouses summed into this IP warehouse (all must say so)")
    include_non_nettable: bool = False
    include_drop_ship: bool = False
    include_inactive: bool = False
    active: bool = True


class WarehouseMappingIn(WarehouseFields):
    sap_warehouse_code: SapWarehouseCode = Field(description="SAP WarehouseCode (≤ 8 characters)")


class WarehouseMappingPatch(BaseModel):
    model_config = _INPUT

    ip_warehouse_id: Text100 | None = None
    ip_warehouse_name: Text200 | None = None
    mode: WarehouseMode | None = None
    include_non_nettable: bool | None = None
    include_drop_ship: bool | None = None
    include_inactive: bool | None = None
    active: bool | None = None


class WarehouseMappingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sap_warehouse_code: str
    ip_warehouse_id: str
    ip_warehouse_name: str | None
    mode: WarehouseMode
    include_non_nettable: bool
    include_drop_ship: bool
    include_inactive: bool
    active: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


# --- item groups --------------------------------------------------------------------------------

class ItemGroupFields(BaseModel):
    model_config = _INPUT

    ip_category: Text200 = Field(description="Inventory Planner category for items of this group")
    include_in_planning: bool = True


class ItemGroupMappingIn(ItemGroupFields):
    sap_group_code: GroupCode


class ItemGroupMappingPatch(BaseModel):
    model_config = _INPUT

    ip_category: Text200 | None = None
    include_in_planning: bool | None = None


class ItemGroupMappingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sap_group_code: int
    ip_category: str
    include_in_planning: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


# --- vendors ------------------------------------------------------------------------------------

class VendorFields(BaseModel):
    model_config = _INPUT

    sap_card_code: SapCardCode = Field(description="SAP business partner CardCode (≤ 15 characters)")


class VendorMappingIn(VendorFields):
    ip_vendor: Text200 = Field(description="The vendor id or name exactly as Inventory Planner sends it")


class VendorMappingPatch(BaseModel):
    model_config = _INPUT

    sap_card_code: SapCardCode | None = None


class VendorMappingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    ip_vendor: str
    sap_card_code: str
    created_at: UtcDatetime
    updated_at: UtcDatetime


# --- bulk import --------------------------------------------------------------------------------

class RowError(BaseModel):
    field: str | None
    message: str


class RowReport(BaseModel):
    row: int = Field(description="1-based position among the data rows (CSV: the header is not counted)")
    ok: bool
    key: str | None = None
    action: str | None = Field(default=None, description="created, updated or unchanged")
    errors: list[RowError] = Field(default_factory=list)


class ImportReport(BaseModel):
    kind: MappingKind
    dry_run: bool
    applied: bool
    ok: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: list[RowReport]

"""Typed views of the Service Layer entities b1bridge reads and writes.

Field names are snake_case with the SAP PascalCase names as aliases; unknown properties are kept
(`extra="allow"`), because an item has ~330 properties and UDFs vary per company. These models are
for the typed helpers; the stock sync's hot path reads raw dicts (`iter_entities`) instead.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_pascal


def sap_date(value: Any) -> Any:
    """v1 sends `2025-05-13`; v2 may send `2025-05-13T00:00:00Z`: keep the date part."""
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return value[:10]
    return value or None


class SapModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="allow")

    etag: str | None = Field(default=None, exclude=True,
                             validation_alias=AliasChoices("@odata.etag", "odata.etag", "etag"))

    def to_sap(self) -> dict[str, Any]:
        """The body to POST/PATCH: SAP names, unset fields left out so PATCH merges cleanly."""
        return self.model_dump(by_alias=True, exclude_unset=True, exclude_none=True, mode="json")


class YesNo(StrEnum):
    yes = "tYES"
    no = "tNO"


class ItemWarehouseInfo(SapModel):
    warehouse_code: str
    in_stock: float = 0.0
    committed: float = 0.0
    ordered: float = 0.0
    minimal_stock: float | None = None
    maximal_stock: float | None = None
    locked: YesNo | None = None

    @property
    def available(self) -> float:
        """SAP has no such field; the convention is on hand minus committed."""
        return self.in_stock - self.committed


class Item(SapModel):
    item_code: str
    item_name: str | None = None
    items_group_code: int | None = None
    inventory_item: YesNo | None = None
    purchase_item: YesNo | None = None
    valid: YesNo | None = None
    frozen: YesNo | None = None
    default_warehouse: str | None = None
    main_supplier: str | None = Field(default=None, alias="Mainsupplier")
    lead_time: int | None = None
    min_order_quantity: float | None = None
    order_multiple: float | None = None
    quantity_on_stock: float | None = None
    update_date: date | None = None
    update_time: str | None = None
    item_warehouse_info_collection: list[ItemWarehouseInfo] = Field(default_factory=list)

    _dates = field_validator("update_date", mode="before")(sap_date)


class Warehouse(SapModel):
    warehouse_code: str
    warehouse_name: str | None = None
    inactive: YesNo | None = None
    nettable: YesNo | None = None
    drop_ship: YesNo | None = None


class ItemGroup(SapModel):
    number: int
    group_name: str | None = None
    lead_time: int | None = None
    minimum_order_quantity: float | None = None
    order_multiple: float | None = None


class BusinessPartner(SapModel):
    card_code: str
    card_name: str | None = None
    card_type: str | None = None  # cSupplier for vendors
    valid: YesNo | None = None
    frozen: YesNo | None = None
    currency: str | None = None


class DocumentLine(SapModel):
    line_num: int | None = None
    item_code: str | None = None
    quantity: float | None = None
    warehouse_code: str | None = None
    unit_price: float | None = None
    price: float | None = None
    line_vendor: str | None = None
    base_type: int | None = None
    base_entry: int | None = None
    base_line: int | None = None
    remaining_open_quantity: float | None = None


class Document(SapModel):
    """PurchaseOrders, PurchaseRequests, PurchaseDeliveryNotes, InventoryGenEntries/Exits."""

    doc_entry: int | None = None
    doc_num: int | None = None
    doc_date: date | None = None
    doc_due_date: date | None = None
    tax_date: date | None = None
    required_date: date | None = Field(default=None, alias="RequriedDate")  # (sic) in SAP
    card_code: str | None = None
    num_at_card: str | None = None
    comments: str | None = None
    reference2: str | None = None
    document_status: str | None = None
    cancelled: YesNo | None = None
    financial_period: int | None = None
    document_lines: list[DocumentLine] = Field(default_factory=list)

    _dates = field_validator("doc_date", "doc_due_date", "tax_date", "required_date",
                             mode="before")(sap_date)


class StockTransferLine(SapModel):
    line_num: int | None = None
    item_code: str | None = None
    quantity: float | None = None
    from_warehouse_code: str | None = None
    warehouse_code: str | None = None


class StockTransfer(SapModel):
    doc_entry: int | None = None
    doc_num: int | None = None
    doc_date: date | None = None
    from_warehouse: str | None = None
    to_warehouse: str | None = None
    comments: str | None = None
    stock_transfer_lines: list[StockTransferLine] = Field(default_factory=list)

    _dates = field_validator("doc_date", mode="before")(sap_date)


class ProductionOrder(SapModel):
    absolute_entry: int | None = None
    document_number: int | None = None
    item_no: str | None = None
    planned_quantity: float | None = None
    due_date: date | None = None
    warehouse: str | None = None
    production_order_status: str | None = None

    _dates = field_validator("due_date", mode="before")(sap_date)

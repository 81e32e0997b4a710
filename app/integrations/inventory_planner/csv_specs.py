"""Column specs of the CSV files b1bridge sends to Inventory Planner.

Advanced CSV (reference §2.2): a missing required column or *any* column IP does not know makes
IP skip the whole file, silently. So the specs below list only the columns the reference names
(a column behind its "…" is deliberately absent) and every file is validated against them before
upload. `required` means the column must be in the header; `nullable` says whether a row may
leave the cell empty (a SAP item without a barcode still has the BARCODE column).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Entity(StrEnum):
    """Advanced CSV entities; the value is the SFTP sub-folder (§2.2 "one subdirectory per entity")."""

    warehouses = "warehouses"
    variants = "variants"
    variant_warehouses = "variant-warehouses"
    stock_orders = "stock-orders"
    sales_orders = "sales-orders"


class ColumnType(StrEnum):
    string = "string"
    float = "float"
    boolean = "boolean"
    timestamp = "timestamp"  # TIMESTAMP_NTZ, written `YYYY-MM-DD HH:MM:SS` in UTC (§2.2)
    date = "date"  # `YYYY-MM-DD` (Starter `created_at`, §2.1)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = ColumnType.string
    required: bool = True
    nullable: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileSpec:
    name: str
    folder: str
    columns: tuple[Column, ...]
    case_insensitive_header: bool = False  # the Starter reader matches names case-insensitively

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not c.required)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if self._key(column.name) == self._key(name):
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    def header(self, optional: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
        """Required columns plus the chosen optional ones, in spec order."""
        wanted = {self._key(n) for n in optional}
        unknown = wanted - {self._key(n) for n in self.optional}
        if unknown:
            raise ValueError(f"{self.name}: not optional columns of this file: {sorted(unknown)}")
        return tuple(c.name for c in self.columns if c.required or self._key(c.name) in wanted)

    def header_problems(self, header: list[str]) -> list[str]:
        """Why IP would skip a file with this header (empty = it would read it)."""
        keys = [self._key(h) for h in header]
        problems = []
        if len(set(keys)) != len(keys):
            problems.append("duplicate column")
        missing = [c for c in self.required if self._key(c) not in keys]
        if missing:
            problems.append("missing required column(s): " + ", ".join(missing))
        known = {self._key(n) for n in self.names}
        unknown = [h for h in header if self._key(h) not in known]
        if unknown:
            problems.append("unsupported column(s): " + ", ".join(unknown))
        return problems

    def _key(self, name: str) -> str:
        return name.lower() if self.case_insensitive_header else name


S, F, B, T, D = ColumnType.string, ColumnType.float, ColumnType.boolean, ColumnType.timestamp, ColumnType.date


def _opt(name: str, type: ColumnType = S, choices: tuple[str, ...] = ()) -> Column:
    return Column(name, type, required=False, nullable=True, choices=choices)


def _nullable(name: str, type: ColumnType = S) -> Column:
    return Column(name, type, nullable=True)


WAREHOUSES = FileSpec("warehouse", Entity.warehouses.value, (
    Column("WAREHOUSE_ID"),  # unique within the connector
    Column("DISPLAY_NAME"),
    Column("UPDATED_AT", T),
    Column("REMOVED", B),
    _opt("CURRENCY"),
    _opt("BILLING_ADDRESS"),
    _opt("SHIPPING_ADDRESS"),
))

VARIANTS = FileSpec("variant", Entity.variants.value, (
    Column("VARIANT_ID"),  # globally unique: the SAP ItemCode (§2.4)
    Column("SKU"),
    Column("TITLE"),
    _nullable("BARCODE"),
    Column("PRODUCT_ID"),
    _nullable("PRICE", F),
    Column("CREATED_AT", T),
    Column("UPDATED_AT", T),
    Column("REMOVED", B),
    _opt("TYPE", choices=("simple", "bundle", "assembly")),  # `simple` by default
    _opt("IMAGE"),
))

VARIANT_WAREHOUSES = FileSpec("variant-warehouse", Entity.variant_warehouses.value, (
    Column("VARIANT_ID"),
    Column("WAREHOUSE_ID"),
    Column("IN_STOCK", F),  # available = on hand − committed; may be negative (§2.2)
    Column("REMOVED", B),
    Column("UPDATED_AT", T),
    _opt("MIN_STOCK", F),
    _opt("MAX_STOCK", F),
    _opt("MAX_ORDER", F),
    _opt("TRANSFER_UOM", F),
    _opt("GROSS_WEIGHT", F),
))

# The reference does not mark stock-order columns optional; TYPE has a default ("po") and the last
# three trail as extras, so those four are optional (the emulator's specs.py reads it the same way).
# VENDOR and SOURCE_WAREHOUSE exclude each other (PO vs transfer), so both cells may be empty.
STOCK_ORDERS = FileSpec("stock order", Entity.stock_orders.value, (
    Column("ID"),
    Column("REFERENCE"),
    Column("STATUS"),
    Column("WAREHOUSE"),
    _nullable("VENDOR"),
    _nullable("SOURCE_WAREHOUSE"),
    _nullable("CURRENCY"),
    Column("CREATED_DATE", T),
    Column("LINE_ITEM_ID"),
    Column("VARIANT_ID"),
    Column("SKU"),
    _nullable("BARCODE"),
    _nullable("TITLE"),
    Column("REPLENISHMENT", F),
    Column("RECEIVED", F),
    _nullable("RECEIVED_DATE", T),
    _nullable("COST_PRICE", F),
    Column("REMOVED", B),
    Column("UPDATED_AT", T),
    _opt("TYPE", choices=("po", "transfer", "assembly")),  # the same on every row of an order
    _opt("REFERENCE2"),
    _opt("EXPECTED_DATE", T),
    _opt("LAST_MODIFIED", T),
))

SALES_ORDERS = FileSpec("sales order", Entity.sales_orders.value, (
    Column("ORDER_ID"),  # the *line* id
    Column("ID"),  # the order id, the same on every line
    Column("VARIANT_ID"),
    Column("WAREHOUSE"),
    Column("CURRENCY"),
    Column("QUANTITY", F),  # a return is a negative quantity
    Column("PRICE", F),
    Column("CREATED_AT", T),
    Column("REMOVED", B),
    Column("UPDATED_AT", T),
    _opt("REFERENCE"),
    _opt("ORIGINAL_COST_PRICE", F),  # for COGS
    _opt("CUSTOMER"),
    _opt("DISCOUNT", F),
    _opt("TAX", F),
    _opt("CANCELLED", B),
))

SPECS: Mapping[Entity, FileSpec] = {
    Entity.warehouses: WAREHOUSES,
    Entity.variants: VARIANTS,
    Entity.variant_warehouses: VARIANT_WAREHOUSES,
    Entity.stock_orders: STOCK_ORDERS,
    Entity.sales_orders: SALES_ORDERS,
}

# Dependency order within one delivery (§2.2 "Order of files"): warehouses and variants first.
DELIVERY_ORDER: tuple[Entity, ...] = (
    Entity.warehouses, Entity.variants, Entity.variant_warehouses, Entity.sales_orders, Entity.stock_orders,
)

# Starter CSV products file (§2.1): one full snapshot per connector (= per IP warehouse). Its
# optional list ends in "…", so only the named optional columns are written.
STARTER_PRODUCTS = FileSpec("starter products", "starter", (
    Column("product_id"),
    Column("title"),
    _nullable("price", F),
    Column("SKU"),
    Column("created_at", D),  # e.g. 2016-03-28
    Column("stock_quantity", F),
    _opt("regular_price", F),
    _opt("cost_price", F),
    _opt("barcode"),
    _opt("updated_at", D),
    _opt("managing_stock", B),
    _opt("vendor"),
    _opt("categories"),
), case_insensitive_header=True)


# --- cell grammar: what the writer emits and the validator accepts ------------------------------

FLOAT_RE = re.compile(r"^-?\d+(\.\d+)?$")  # no exponent, no thousands separator
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BOOLEANS = ("true", "false")


def spec_for(entity: Entity | str) -> FileSpec:
    return SPECS[Entity(entity)]

"""Column specs of the CSV files IP ingests: the one table both the emulator and tests read.

Advanced CSV (reference §2.2): a missing required column or *any* column outside required+optional
makes IP skip the whole file silently. The optional sets hold only what the reference names; a
column it leaves behind an ellipsis is deliberately absent, so the product cannot come to depend on
a column nobody has confirmed IP accepts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileSpec:
    entity: str  # the SFTP folder name
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.optional)

    def column_problem(self, header: list[str]) -> str | None:
        """Why a file with this header would be skipped, or None when IP would read it."""
        if len(set(header)) != len(header):
            return "duplicate column"
        missing = [c for c in self.required if c not in header]
        if missing:
            return "missing required column(s): " + ", ".join(missing)
        unknown = [c for c in header if c not in self.allowed]
        if unknown:
            return "unsupported column(s): " + ", ".join(unknown)
        return None


WAREHOUSES = FileSpec(
    "warehouses",
    ("WAREHOUSE_ID", "DISPLAY_NAME", "UPDATED_AT", "REMOVED"),
    ("CURRENCY", "BILLING_ADDRESS", "SHIPPING_ADDRESS"),
)
VARIANTS = FileSpec(
    "variants",
    ("VARIANT_ID", "SKU", "TITLE", "BARCODE", "PRODUCT_ID", "PRICE", "CREATED_AT", "UPDATED_AT", "REMOVED"),
    ("TYPE", "IMAGE"),
)
VARIANT_WAREHOUSES = FileSpec(
    "variant-warehouses",
    ("VARIANT_ID", "WAREHOUSE_ID", "IN_STOCK", "REMOVED", "UPDATED_AT"),
    ("MIN_STOCK", "MAX_STOCK", "MAX_ORDER", "TRANSFER_UOM", "GROSS_WEIGHT"),
)
SALES_ORDERS = FileSpec(
    "sales-orders",
    (
        "ORDER_ID",
        "ID",
        "VARIANT_ID",
        "WAREHOUSE",
        "CURRENCY",
        "QUANTITY",
        "PRICE",
        "CREATED_AT",
        "REMOVED",
        "UPDATED_AT",
    ),
    ("REFERENCE", "ORIGINAL_COST_PRICE", "CUSTOMER", "DISCOUNT", "TAX", "CANCELLED"),
)
# The reference lists stock-order columns without marking which are optional; TYPE has a default
# ("po") and the last three are extras, so those four are optional and the rest required.
STOCK_ORDERS = FileSpec(
    "stock-orders",
    (
        "ID",
        "REFERENCE",
        "STATUS",
        "WAREHOUSE",
        "VENDOR",
        "SOURCE_WAREHOUSE",
        "CURRENCY",
        "CREATED_DATE",
        "LINE_ITEM_ID",
        "VARIANT_ID",
        "SKU",
        "BARCODE",
        "TITLE",
        "REPLENISHMENT",
        "RECEIVED",
        "RECEIVED_DATE",
        "COST_PRICE",
        "REMOVED",
        "UPDATED_AT",
    ),
    ("TYPE", "REFERENCE2", "EXPECTED_DATE", "LAST_MODIFIED"),
)
# The vendor file's columns are not in the reference (only "matched by display name"): a minimal,
# clearly-labelled guess.
VENDORS = FileSpec("vendors", ("VENDOR_ID", "DISPLAY_NAME", "UPDATED_AT", "REMOVED"), ("CURRENCY", "EMAIL"))

# Dependency order within one sync (reference §2.2 "Order of files").
ADVANCED_SPECS: tuple[FileSpec, ...] = (
    WAREHOUSES,
    VENDORS,
    VARIANTS,
    VARIANT_WAREHOUSES,
    SALES_ORDERS,
    STOCK_ORDERS,
)
ENTITY_FOLDERS: tuple[str, ...] = tuple(spec.entity for spec in ADVANCED_SPECS)

# Starter CSV products file (reference §2.1). IP's list of optional columns ends in "…", so the
# Starter reader checks only the required ones (case-insensitively) and ignores the rest.
STARTER_PRODUCTS = FileSpec(
    "starter-products",
    ("product_id", "title", "price", "sku", "created_at", "stock_quantity"),
    ("regular_price", "cost_price", "barcode", "updated_at", "managing_stock", "vendor", "categories"),
)

TRUE_VALUES = frozenset({"true", "1", "yes", "t", "y"})
FALSE_VALUES = frozenset({"false", "0", "no", "f", "n", ""})


def parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise ValueError(f"not a boolean: {value!r}")

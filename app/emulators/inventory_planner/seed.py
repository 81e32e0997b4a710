"""Deterministic seed: the demo and the tests start from the same IP account every time.

The SKUs, vendors and warehouses come from the config so the demo can seed the SAP emulator with
the same codes; one line uses an SKU SAP does not know, to exercise SKU_MISMATCH.
"""

from __future__ import annotations

from typing import Any

from app.emulators.inventory_planner import purchase_orders as pos
from app.emulators.inventory_planner.catalog import Catalog
from app.emulators.inventory_planner.config import IPEmulatorConfig

SEED_EPOCH = 1735689600.0  # 2025-01-01T00:00:00Z: fixed, so seeded documents are byte-identical
DAY = 86400.0


def seed_catalog(config: IPEmulatorConfig) -> Catalog:
    catalog = Catalog(prefix=config.csv_connection)
    for wh in config.warehouses:
        catalog.warehouses[wh["id"]] = {
            "id": wh["id"],
            "display_name": wh.get("display_name", wh["id"]),
            "currency": wh.get("currency", "USD"),
            "removed": False,
            "updated_at": SEED_EPOCH,
        }
    for vendor in config.vendors:
        catalog.vendors[vendor["id"]] = {
            "id": vendor["id"],
            "name": vendor["id"],
            "display_name": vendor.get("display_name", vendor["id"]),
            "removed": False,
            "updated_at": SEED_EPOCH,
        }
    if config.seed_variants:
        for index, sku in enumerate([*config.skus, config.unknown_sku]):
            _seed_variant(catalog, config, index, sku)
    return catalog


def _seed_variant(catalog: Catalog, config: IPEmulatorConfig, index: int, sku: str) -> None:
    variant_id = catalog.api_id(sku)
    catalog.variants[variant_id] = {
        "id": variant_id,
        "sku": sku,
        "title": f"Item {sku}",
        "barcode": f"400{index:010d}",
        "product_id": catalog.api_id(f"P-{sku}"),
        "price": 10.0 + index,
        "type": "simple",
        "created_at": SEED_EPOCH,
        "updated_at": SEED_EPOCH,
        "removed": False,
    }
    if config.vendors:
        catalog.variant_vendors[variant_id] = [config.vendors[index % len(config.vendors)]["id"]]


# (status, vendor index, warehouse index, [(sku index or -1 for the unknown SKU, qty, received)], extra)
_PLAN: list[tuple[str, int, int, list[tuple[int, int, int]], dict[str, Any]]] = [
    ("draft", 0, 0, [(0, 10, 0), (1, 5, 0)], {}),
    ("open", 1, 1, [(2, 12, 0), (3, 8, 0), (4, 20, 0)], {}),
    ("partially received", 2, 2, [(5, 10, 4), (6, 6, 0)], {}),
    ("open", 0, 1, [(-1, 3, 0), (7, 9, 0)], {}),
    ("closed", 1, 0, [(8, 4, 4)], {}),
    ("open", 2, 0, [(9, 7, 0)], {"readonly": True}),
    ("open", 0, 1, [(10, 5, 0)], {"type": "transfer", "source_type": "warehouse", "source_warehouse": 0}),
    ("ordered", 1, 2, [(11, 15, 0)], {}),
]


def seed_purchase_orders(config: IPEmulatorConfig, catalog: Catalog) -> dict[str, dict[str, Any]]:
    if not (config.seed_purchase_orders and config.skus and config.vendors and config.warehouses):
        return {}
    orders = {}
    for n, plan in enumerate(_PLAN):
        po = _seed_po(config, catalog, n, *plan)
        orders[po["id"]] = po
    return orders


def _seed_po(
    config: IPEmulatorConfig,
    catalog: Catalog,
    n: int,
    status: str,
    vendor_ix: int,
    wh_ix: int,
    lines: list[tuple[int, int, int]],
    extra: dict[str, Any],
) -> dict[str, Any]:
    vendor = config.vendors[vendor_ix % len(config.vendors)]
    warehouse = config.warehouses[wh_ix % len(config.warehouses)]
    created = SEED_EPOCH + n * DAY
    po: dict[str, Any] = {
        "id": f"po_{1001 + n}",
        "reference": f"PO-{1001 + n:04d}",
        "extra_reference": "",
        "type": extra.get("type", "po"),
        "status": status,
        "source_type": extra.get("source_type", "vendor"),
        "vendor": vendor["id"],
        "vendor_display_name": vendor.get("display_name", vendor["id"]),
        "warehouse": warehouse["id"],
        "warehouse_display_name": warehouse.get("display_name", warehouse["id"]),
        "expected_date": created + 14 * DAY,
        "created_date": created,
        "created_at": created,
        "last_modified": created + 3600,
        "updated_at": created + 3600,
        "currency": "USD",
        "readonly": bool(extra.get("readonly", False)),
        "version": 1,
        "notes": "",
        "connections": [],
        "history": [],
        "items": [],
    }
    if "source_warehouse" in extra:
        source = config.warehouses[extra["source_warehouse"] % len(config.warehouses)]
        po["source_warehouse"] = source["id"]
        po["source_warehouse_display_name"] = source.get("display_name", source["id"])
    for m, (sku_ix, qty, received) in enumerate(lines):
        po["items"].append(_seed_line(config, catalog, n, m, sku_ix, qty, received, created))
    pos.recompute_totals(po)
    return po


def _seed_line(
    config: IPEmulatorConfig,
    catalog: Catalog,
    n: int,
    m: int,
    sku_ix: int,
    qty: int,
    received: int,
    created: float,
) -> dict[str, Any]:
    sku = config.unknown_sku if sku_ix < 0 else config.skus[sku_ix % len(config.skus)]
    variant = catalog.variants.get(catalog.api_id(sku)) or {"id": catalog.api_id(sku), "sku": sku}
    line = pos.new_line(f"li_{1001 + n}_{m + 1}", variant, qty, round(2.5 + sku_ix % 7, 2))
    if received:
        line["received"] = received
        line["received_history"] = [{"date": int(created + 7 * DAY), "value": received}]
    return line

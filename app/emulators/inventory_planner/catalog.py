"""What IP holds from its connections, and the published view the API serves.

IP reads stock from its connections during the nightly sync and only then recomputes its numbers
(reference §3, §11.10). So ingest writes the *connection* layer (`Catalog`), and `publish()` turns it
into the variant documents `/variants` returns. Until the next sync the API shows the old numbers,
which is exactly the staleness the product must tolerate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.emulators.inventory_planner import dates

DEFAULT_TARGET_STOCK = 10.0  # the "simple replenishment" target when no MIN/MAX_STOCK is given
DEFAULT_LEAD_TIME = 14
NO_SALES_OOS_DAYS = 365


@dataclass
class Catalog:
    prefix: str  # connection prefix of API ids, e.g. "c123_csv" (reference §6 identifiers)
    warehouses: dict[str, dict[str, Any]] = field(default_factory=dict)  # by API id
    vendors: dict[str, dict[str, Any]] = field(default_factory=dict)  # by vendor id
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)  # by API id
    stock: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (variant, warehouse)
    sales: dict[str, dict[str, Any]] = field(default_factory=dict)  # by line id
    variant_vendors: dict[str, list[str]] = field(default_factory=dict)  # variant id -> vendor ids

    def api_id(self, raw: str) -> str:
        return f"{self.prefix}.{raw}" if self.prefix else raw

    def live_warehouse(self, warehouse_id: str) -> bool:
        row = self.warehouses.get(warehouse_id)
        return row is not None and not row.get("removed")


def publish(
    catalog: Catalog,
    open_lines: dict[tuple[str, str], float],
    previous: dict[str, dict[str, Any]],
    now: float,
) -> dict[str, dict[str, Any]]:
    """Variant documents after a sync. `open_lines` = remaining PO qty per (variant, warehouse)."""
    velocity = _sales_velocity(catalog, now)
    published = {}
    for variant_id, variant in catalog.variants.items():
        blocks = _warehouse_blocks(catalog, variant_id, open_lines, velocity)
        published[variant_id] = _variant_document(variant, blocks, catalog, previous.get(variant_id))
    return published


def _warehouse_blocks(
    catalog: Catalog,
    variant_id: str,
    open_lines: dict[tuple[str, str], float],
    velocity: dict[tuple[str, str], float],
) -> list[dict[str, Any]]:
    # A variant has a block for every warehouse holding its stock or awaiting an order of it.
    stocked = {
        wid for (vid, wid), row in catalog.stock.items() if vid == variant_id and not row.get("removed")
    }
    ordered = {wid for (vid, wid), qty in open_lines.items() if vid == variant_id and qty}
    blocks = []
    for wid in sorted(stocked | ordered):
        if not catalog.live_warehouse(wid):
            continue
        vid = variant_id
        row = catalog.stock.get((vid, wid)) if wid in stocked else None
        row = row or {"in_stock": 0.0}
        in_stock = row["in_stock"]
        on_order = open_lines.get((vid, wid), 0)
        target = row.get("max_stock") or row.get("min_stock") or DEFAULT_TARGET_STOCK
        to_order = max(target - in_stock - on_order, 0)
        daily = velocity.get((vid, wid), 0)
        oos = 0 if in_stock <= 0 else (int(in_stock / daily) if daily else NO_SALES_OOS_DAYS)
        blocks.append(
            {
                "warehouse": wid,
                "in_stock": in_stock,
                "purchase_orders_qty": on_order,
                "replenishment": to_order,
                "to_order": to_order,
                "lead_time": DEFAULT_LEAD_TIME,
                "oos": oos,
                "replenishment_notes": "",
            }
        )
    return blocks


def _variant_document(
    variant: dict[str, Any], blocks: list[dict[str, Any]], catalog: Catalog, previous: dict[str, Any] | None
) -> dict[str, Any]:
    doc = {
        "id": variant["id"],
        "sku": variant["sku"],
        "title": variant.get("title", ""),
        "barcode": variant.get("barcode", ""),
        "product_id": variant.get("product_id", ""),
        "price": variant.get("price", 0),
        "type": variant.get("type", "simple"),
        "removed": bool(variant.get("removed")),
        "in_stock": sum(b["in_stock"] for b in blocks),
        "purchase_orders_qty": sum(b["purchase_orders_qty"] for b in blocks),
        "replenishment": sum(b["replenishment"] for b in blocks),
        "oos": min((b["oos"] for b in blocks), default=0),
        "lead_time": DEFAULT_LEAD_TIME,
        "review_period": 30,
        "vendors": list(catalog.variant_vendors.get(variant["id"], [])),
        "created_at": dates.render_instant(variant.get("created_at")),
        "updated_at": dates.render_instant(variant.get("updated_at")),
        "connections": [{"sku": variant["sku"]}],
        "warehouse": blocks,
    }
    changed = previous is None or any(previous.get(k) != doc[k] for k in ("in_stock", "warehouse", "removed"))
    doc["version"] = (previous or {}).get("version", 0) + (1 if changed else 0)
    return doc


def _sales_velocity(catalog: Catalog, now: float) -> dict[tuple[str, str], float]:
    """Units per day over the last 30 days of ingested sales lines, per (variant, warehouse)."""
    since = now - 30 * 86400
    totals: dict[tuple[str, str], float] = {}
    for line in catalog.sales.values():
        if line.get("removed") or line.get("cancelled") or (line.get("created_at") or 0) < since:
            continue
        key = (line["variant_id"], line["warehouse"])
        totals[key] = totals.get(key, 0) + line["quantity"]
    return {key: max(total, 0) / 30 for key, total in totals.items()}

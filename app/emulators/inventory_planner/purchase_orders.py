"""Purchase orders: the stored shape (reference §6), writes, receiving, rendering.

Records are plain dicts so filters and `fields` work on any key; dates are timestamps inside and
YYYY-MM-DD (calendar) or ISO 8601 (instants) outside.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from app.emulators.inventory_planner import dates
from app.emulators.inventory_planner.config import IPEmulatorConfig
from app.emulators.inventory_planner.errors import bad_request
from app.emulators.inventory_planner.statuses import StatusTable

CALENDAR_FIELDS = ("expected_date", "created_date", "payment_date", "shipment_date", "received_date")
INSTANT_FIELDS = ("last_modified", "created_at", "updated_at")
HEADER_WRITABLE = (
    "reference",
    "extra_reference",
    "notes",
    "currency",
    "payment_terms",
    "shipment_method",
    "email",
    "attn",
    "vendor_address",
    "billing_address",
    "shipping_address",
)
WRITE_DATES = ("expected_date", "payment_date", "shipment_date")
ITEM_WRITABLE = ("replenishment", "cost_price", "title", "barcode", "vendor_reference")

VariantLookup = Callable[[dict[str, Any]], dict[str, Any] | None]


def new_line(line_id: str, variant: dict[str, Any], quantity: float, cost: float) -> dict[str, Any]:
    return {
        "id": line_id,
        "line_id": line_id,
        "variant_id": variant["id"],
        "sku": variant["sku"],
        "title": variant.get("title", ""),
        "barcode": variant.get("barcode", ""),
        "product_id": variant.get("product_id", ""),
        "replenishment": quantity,
        "replenishment_original": quantity,
        "received": 0,
        "remaining": quantity,
        "cost_price": cost,
        "ordered_cost": round(cost * quantity, 2),
        "total": round(cost * quantity, 2),
        "received_history": [],
        "version": 1,
    }


def recompute_totals(po: dict[str, Any]) -> None:
    items = po["items"]
    po["total_ordered"] = sum(i["replenishment"] for i in items)
    po["total_received"] = sum(i["received"] for i in items)
    po["total"] = round(sum(float(i["cost_price"]) * i["replenishment"] for i in items), 2)
    for item in items:
        item["remaining"] = max(item["replenishment"] - item["received"], 0)
        item["ordered_cost"] = round(float(item["cost_price"]) * item["replenishment"], 2)
        item["total"] = item["ordered_cost"]


def touch(po: dict[str, Any], now: float | None = None) -> None:
    """Every change bumps `last_modified` and `version` (reference §11.3): pollers diff on them."""
    stamp = now if now is not None else dates.now_ts()
    # Keep last_modified strictly increasing even when two writes share a clock tick.
    po["last_modified"] = max(stamp, po.get("last_modified", 0) + 1e-6)
    po["updated_at"] = po["last_modified"]
    po["version"] = po.get("version", 0) + 1


def apply_header(
    po: dict[str, Any],
    body: dict[str, Any],
    config: IPEmulatorConfig,
    statuses: StatusTable,
    names: dict[str, dict[str, str]],
) -> None:
    for key in HEADER_WRITABLE:
        if key in body:
            po[key] = body[key]
    for key in WRITE_DATES:
        if key in body:
            try:
                po[key] = dates.parse_write_date(body[key], config.date_mode)
            except dates.DateError as exc:
                raise bad_request(str(exc))
    if "status" in body:
        po["status"] = statuses.normalise(body["status"])
    for key, table in (
        ("vendor", names["vendors"]),
        ("warehouse", names["warehouses"]),
        ("source_warehouse", names["warehouses"]),
    ):
        if key in body:
            po[key] = body[key]
            po[f"{key}_display_name"] = table.get(body[key], body[key])


def apply_items(
    po: dict[str, Any], rows: list[dict[str, Any]], lookup: VariantLookup, next_line_id: Callable[[], str]
) -> None:
    """Update lines by id; a row without a known id adds a line for its variant (or sku)."""
    by_id = {item["id"]: item for item in po["items"]}
    for row in rows:
        if not isinstance(row, dict):
            raise bad_request("items must be objects")
        item = by_id.get(str(row.get("id")))
        if item is None:
            po["items"].append(_line_from_row(row, lookup, next_line_id()))
            continue
        for key in ITEM_WRITABLE:
            if key in row:
                item[key] = _number(row[key]) if key in ("replenishment", "cost_price") else row[key]
        item["version"] += 1


def _line_from_row(row: dict[str, Any], lookup: VariantLookup, line_id: str) -> dict[str, Any]:
    variant = lookup(row)
    if variant is None:
        raise bad_request(f"Failed to find variant {row.get('variant_id') or row.get('sku')}")
    quantity = _number(row.get("replenishment", 0))
    return new_line(line_id, variant, quantity, _number(row.get("cost_price", 0)))


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad_request(f"not a number: {value!r}")
    return int(number) if number.is_integer() else number


def receive(
    po: dict[str, Any], rows: list[dict[str, Any]], semantics: str, now: float
) -> list[dict[str, Any]]:
    """PATCH /{id}/items (reference §6 "Receive"): absolute totals by default, deltas if configured."""
    by_id = {item["id"]: item for item in po["items"]}
    changed = []
    for row in rows:
        item = by_id.get(str(row.get("id")))
        if item is None:
            raise bad_request(f"Failed to find item {row.get('id')}")
        if "received" not in row:
            continue
        amount = _number(row["received"])
        total = item["received"] + amount if semantics == "delta" else amount
        if total < 0:
            raise bad_request("received cannot be negative")
        _record_receipt(item, total, now)
        changed.append(item)
    return changed


def _record_receipt(item: dict[str, Any], total: float, now: float) -> None:
    step = total - item["received"]
    if step:
        item["received_history"].append({"date": int(now), "value": step})
        item["received"] = total
        item["version"] += 1


def status_after_receipt(po: dict[str, Any]) -> str | None:
    items = po["items"]
    if items and all(i["received"] >= i["replenishment"] for i in items):
        return "closed"
    if any(i["received"] > 0 for i in items):
        return "partially received"
    return None


def render(po: dict[str, Any], config: IPEmulatorConfig) -> dict[str, Any]:
    out = copy.deepcopy(po)
    for key in CALENDAR_FIELDS:
        if key in out:
            out[key] = dates.render_date(out[key])
    for key in INSTANT_FIELDS:
        if key in out:
            out[key] = dates.render_instant(out[key])
    if config.costs_as_strings:
        # Costs sometimes arrive as strings (reference §6, HNJ): clients must accept both.
        for item in out["items"]:
            item["cost_price"] = f"{float(item['cost_price']):.2f}"
    return out

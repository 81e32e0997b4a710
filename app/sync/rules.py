"""Pure stock-out rules: item status, warehouse routing, aggregation, what changed, the CSV rows.

No I/O here; every function takes plain values and returns plain values, so each rule has a table
test (tests/sync/test_rules.py). SAP booleans arrive as `tYES`/`tNO` (reference §4).
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

import orjson

# Why a row or an item is kept out of IP. Stored on the snapshot so /stock can say so.
INACTIVE_ITEM = "inactive_item"
FROZEN_ITEM = "frozen_item"
NON_INVENTORY_ITEM = "non_inventory_item"
GROUP_EXCLUDED = "group_excluded"
UNMAPPED_CATEGORY = "unmapped_category"
INACTIVE_WAREHOUSE = "inactive_warehouse"
DROP_SHIP = "drop_ship"
NON_NETTABLE = "non_nettable"
UNMAPPED_WAREHOUSE = "unmapped_warehouse"
MAPPING_CONFLICT = "mapping_conflict"
# Exclusions where the stock is real and counted by SAP's MRP-less view, but kept out by policy:
# NON_NETTABLE_STOCK reports these when they hold stock.
POLICY_EXCLUSIONS = frozenset({INACTIVE_WAREHOUSE, DROP_SHIP, NON_NETTABLE})

_CSV_PREFIX = re.compile(r"^c[^.]*_csv\.")


class WarehouseMappingLike(Protocol):
    sap_warehouse_code: str
    ip_warehouse_id: str
    ip_warehouse_name: str | None
    mode: Any
    include_non_nettable: bool
    include_drop_ship: bool
    include_inactive: bool


class ItemGroupMappingLike(Protocol):
    sap_group_code: int
    ip_category: str
    include_in_planning: bool


def yes(value: Any) -> bool:
    """SAP's BoYesNoEnum by name or value; a real bool passes through."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"tyes", "y", "yes", "true", "1"}


def available(in_stock: float | None, committed: float | None) -> float:
    """IP's IN_STOCK: on hand minus committed (reference §2.2); negative is allowed and kept."""
    return float(in_stock or 0.0) - float(committed or 0.0)


def local_warehouse_id(ip_warehouse_id: str) -> str:
    """The id a CSV file uses: IP's API shows CSV warehouses as `c<conn>_csv.<id>` (ref. IP §6)."""
    return _CSV_PREFIX.sub("", ip_warehouse_id)


# --- items ------------------------------------------------------------------------------------------


def item_exclusion(item: Mapping[str, Any]) -> str | None:
    """Inactive (Valid = tNO), frozen and non-inventory items are not live in IP."""
    if "Valid" in item and not yes(item["Valid"]):
        return INACTIVE_ITEM
    if yes(item.get("Frozen", "tNO")):
        return FROZEN_ITEM
    if "InventoryItem" in item and not yes(item["InventoryItem"]):
        return NON_INVENTORY_ITEM
    return None


@dataclass(frozen=True)
class GroupDecision:
    category: str | None
    exclusion: str | None  # GROUP_EXCLUDED makes the item not live; UNMAPPED_CATEGORY holds it
    unmapped: bool


def group_decision(
    group_code: int | None, groups: Mapping[int, ItemGroupMappingLike], policy: str
) -> GroupDecision:
    """An unmapped group is reported and, per `SYNC_UNMAPPED_CATEGORY`, sent anyway or held."""
    mapping = groups.get(group_code) if group_code is not None else None
    if mapping is None:
        return GroupDecision(None, UNMAPPED_CATEGORY if policy == "hold" else None, True)
    if not mapping.include_in_planning:
        return GroupDecision(mapping.ip_category, GROUP_EXCLUDED, False)
    return GroupDecision(mapping.ip_category, None, False)


# --- warehouses -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Warehouse:
    code: str
    name: str = ""
    inactive: bool = False
    nettable: bool = True
    drop_ship: bool = False

    @classmethod
    def from_sap(cls, row: Mapping[str, Any]) -> Warehouse:
        return cls(
            code=str(row["WarehouseCode"]),
            name=str(row.get("WarehouseName") or ""),
            inactive=yes(row.get("Inactive", "tNO")),
            nettable=yes(row.get("Nettable", "tYES")),
            drop_ship=yes(row.get("DropShip", "tNO")),
        )


@dataclass(frozen=True)
class Route:
    """Where one SAP warehouse's stock goes: an IP warehouse, or nowhere and why."""

    sap_warehouse: str
    ip_warehouse_id: str | None
    exclusion: str | None = None
    aggregate: bool = False
    ip_warehouse_name: str | None = None


def warehouse_exclusion(warehouse: Warehouse, mapping: WarehouseMappingLike | None) -> str | None:
    """Status rules first: an inactive, drop-ship or non-nettable warehouse is left out by policy
    (mapped or not); only a warehouse IP should count but cannot be placed is UNMAPPED."""
    if warehouse.inactive and not (mapping and mapping.include_inactive):
        return INACTIVE_WAREHOUSE
    if warehouse.drop_ship and not (mapping and mapping.include_drop_ship):
        return DROP_SHIP
    if not warehouse.nettable and not (mapping and mapping.include_non_nettable):
        return NON_NETTABLE
    return UNMAPPED_WAREHOUSE if mapping is None else None


def route(warehouse: Warehouse, mapping: WarehouseMappingLike | None) -> Route:
    exclusion = warehouse_exclusion(warehouse, mapping)
    if mapping is None:
        return Route(warehouse.code, None, exclusion)
    aggregate = str(getattr(mapping.mode, "value", mapping.mode)) == "aggregate"
    return Route(
        warehouse.code,
        local_warehouse_id(mapping.ip_warehouse_id),
        exclusion,
        aggregate,
        mapping.ip_warehouse_name,
    )


def conflicts(routes: Iterable[Route]) -> dict[str, list[str]]:
    """IP warehouses reached by several included SAP warehouses when not all say `aggregate`.

    Summing them silently would double-plan; picking one would drop stock. Both are wrong, so the
    whole IP warehouse is held until the mapping is fixed (and WAREHOUSE_MAPPING_CONFLICT says so).
    """
    reaching: dict[str, list[Route]] = defaultdict(list)
    for r in routes:
        if r.ip_warehouse_id is not None and r.exclusion is None:
            reaching[r.ip_warehouse_id].append(r)
    return {
        ip: sorted(r.sap_warehouse for r in rs)
        for ip, rs in reaching.items()
        if len(rs) > 1 and not all(r.aggregate for r in rs)
    }


def resolve_routes(
    warehouses: Iterable[Warehouse], mappings: Mapping[str, WarehouseMappingLike]
) -> dict[str, Route]:
    routes = {w.code: route(w, mappings.get(w.code)) for w in warehouses}
    held = {code for codes in conflicts(routes.values()).values() for code in codes}
    return {code: _held(r) if code in held else r for code, r in routes.items()}


def _held(r: Route) -> Route:
    return Route(r.sap_warehouse, r.ip_warehouse_id, MAPPING_CONFLICT, r.aggregate, r.ip_warehouse_name)


# --- per item ---------------------------------------------------------------------------------------


class StockRow(NamedTuple):  # a NamedTuple: ~5 per item, and a frozen dataclass is slow to build
    sap_warehouse: str
    on_hand: float
    committed: float
    ordered: float
    available: float
    ip_warehouse_id: str | None
    exclusion: str | None


def stock_rows(item: Mapping[str, Any], routes: Mapping[str, Route]) -> list[StockRow]:
    """One row per OITW line. A warehouse SAP returns but we never saw is unmapped."""
    rows = []
    for line in item.get("ItemWarehouseInfoCollection") or ():
        code = str(line["WarehouseCode"])
        r = routes.get(code) or Route(code, None, UNMAPPED_WAREHOUSE)
        on_hand, committed = float(line.get("InStock") or 0), float(line.get("Committed") or 0)
        row = (
            code,
            on_hand,
            committed,
            float(line.get("Ordered") or 0),
            on_hand - committed,  # available()
            r.ip_warehouse_id if r.exclusion is None else None,
            r.exclusion,
        )
        rows.append(_new_row(StockRow, row))  # StockRow(*row) without the keyword-mapping wrapper
    return rows


_new_row = tuple.__new__


def ip_totals(rows: Iterable[StockRow], targets: Iterable[str] = ()) -> dict[str, float]:
    """Available stock per IP warehouse (aggregate mappings sum). `targets` get a 0 row even
    without an OITW line, so an item that left a warehouse still reaches IP as zero."""
    totals: dict[str, float] = dict.fromkeys(targets, 0.0)
    for row in rows:
        if row.ip_warehouse_id is not None:
            totals[row.ip_warehouse_id] = totals.get(row.ip_warehouse_id, 0.0) + row.available
    return totals


# --- what changed -----------------------------------------------------------------------------------


def stock_action(
    sent_value: float | None, sent_removed: bool, live: bool, value: float | None
) -> tuple[str, float | None] | None:
    """What to send for one SKU x IP warehouse, given what IP last got; None = nothing.

    `value` None means the SKU no longer has stock rows there (disappeared or not live)."""
    if not live or value is None:
        return ("removed", None) if sent_value is not None and not sent_removed else None
    if sent_removed or sent_value is None or abs(sent_value - value) > 1e-9:
        return ("stock", value)
    return None


def variant_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an item IP's variant row carries; its hash tells whether to resend it."""
    return {
        "sku": str(item["ItemCode"]),
        "title": str(item.get("ItemName") or item["ItemCode"]),
        "barcode": item.get("BarCode") or None,
    }


def fields_hash(fields: Mapping[str, Any], removed: bool) -> str:
    text = "\x1f".join(f"{k}={fields[k]}" for k in sorted(fields)) + f"\x1fremoved={removed}"
    return hashlib.sha256(text.encode()).hexdigest()


def variant_hash(sku: str, title: str, barcode: str | None, removed: bool) -> str:
    """fields_hash(variant_fields(...)) spelled out: the same text, so the same hashes as every
    hash stored before, without the generic join (it runs once per item of every run)."""
    text = f"barcode={barcode}\x1fsku={sku}\x1ftitle={title}\x1fremoved={removed}"
    return hashlib.sha256(text.encode()).hexdigest()


def item_hasher(context: str) -> Callable[[Mapping[str, Any]], str]:
    """The digest of one SAP item as read (every selected field, its OITW lines) in the `context`
    it is evaluated in (routes, groups, policies): equal digests mean equal evaluations. The
    context is hashed once.

    The item is serialised by orjson (in C; keys in SAP's order, floats by their shortest repr,
    so equal values give equal bytes), then SHA-256 (hardware-accelerated on most CPUs) over the
    context and those bytes, kept to 128 bits. marshal + BLAKE2b did the same at twice the cost;
    a change of the scheme changes every digest once, which only costs one run a full evaluation."""
    seed = hashlib.sha256(context.encode() + b"\x00")

    def digest(item: Mapping[str, Any]) -> str:
        h = seed.copy()
        try:
            h.update(orjson.dumps(item))
        except (orjson.JSONEncodeError, TypeError):  # an integer beyond 64 bits, a non-dict
            h.update(marshal.dumps(dict(item), 2))
        return h.hexdigest()[:32]

    return digest


def context_digest(*parts: Any) -> str:
    """A short stand-in for a run's `context` (hashed once, then prefixed to every item's)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def variant_action(sent_hash: str | None, sent_removed: bool, live: bool, new_hash: str) -> str | None:
    """'upsert', 'removed' or None. An item IP never had is not sent just to be removed."""
    if not live:
        return "removed" if sent_hash is not None and not sent_removed else None
    return "upsert" if sent_hash != new_hash else None


# --- CSV rows ---------------------------------------------------------------------------------------


# The columns of the two rows a run writes by the hundred thousand, as tuples in this order.
VARIANT_COLUMNS = (
    "VARIANT_ID", "SKU", "TITLE", "BARCODE", "PRODUCT_ID", "PRICE", "CREATED_AT", "UPDATED_AT", "REMOVED",
)  # fmt: skip
STOCK_COLUMNS = ("VARIANT_ID", "WAREHOUSE_ID", "IN_STOCK", "REMOVED", "UPDATED_AT")


def variant_row(
    sku: str, title: str, barcode: str | None, *, created: datetime, now: datetime, removed: bool
) -> tuple[Any, ...]:
    """A variant row in VARIANT_COLUMNS order: the SAP ItemCode is variant, SKU and product."""
    return (sku, sku, title, barcode, sku, None, created, now, removed)


def stock_row(sku: str, ip_warehouse_id: str, value: float | None, *, now: datetime) -> tuple[Any, ...]:
    """A variant-warehouse row in STOCK_COLUMNS order. A REMOVED row still needs IN_STOCK (a
    required FLOAT): 0."""
    return (sku, ip_warehouse_id, 0.0 if value is None else value, value is None, now)


def warehouse_row(ip_warehouse_id: str, name: str, *, now: datetime) -> dict[str, Any]:
    return {
        "WAREHOUSE_ID": ip_warehouse_id,
        "DISPLAY_NAME": name or ip_warehouse_id,
        "UPDATED_AT": now,
        "REMOVED": False,
    }


# --- SAP time ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def sap_datetime(day: Any, clock: Any, zone: str = "UTC") -> datetime | None:
    """UpdateDate + UpdateTime (v1 `"2025-05-13"`/`"11:41:26"`, v2 may add `T...`) as aware UTC.
    Cached: a page's items share a few dates (and a datetime is immutable)."""
    if not day:
        return None
    d = date.fromisoformat(str(day)[:10])
    t = _parse_time(clock)
    return datetime.combine(d, t, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _parse_time(clock: Any) -> time:
    text = str(clock or "00:00:00").strip()
    if "T" in text:
        text = text.split("T", 1)[1]
    text = text[:8]
    if len(text) == 4 and text.isdigit():  # '1838'
        text = f"{text[:2]}:{text[2:]}"
    return time.fromisoformat(text)


def since(watermark: datetime, overlap_seconds: int, zone: str = "UTC") -> tuple[date, time]:
    """Where to start re-reading, in SAP's local date and minute (the SL compares only HH:MM)."""
    start = (watermark - timedelta(seconds=overlap_seconds)).astimezone(ZoneInfo(zone))
    return start.date(), start.time().replace(second=0, microsecond=0)

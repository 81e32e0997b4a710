"""Table tests of the pure stock rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import pytest

from app.models.mapping import ItemGroupMapping, WarehouseMapping, WarehouseMode
from app.sync import rules
from app.sync.rules import Warehouse


def wmap(code: str, ip: str, mode: str = "direct", **flags: bool) -> WarehouseMapping:
    return WarehouseMapping(sap_warehouse_code=code, ip_warehouse_id=ip, mode=WarehouseMode(mode), **flags)


@pytest.mark.parametrize(
    ("in_stock", "committed", "expected"),
    [(10, 3, 7), (0, 0, 0), (2, 5, -3), (None, None, 0), (1.5, 0.5, 1.0)],
)
def test_available_is_on_hand_minus_committed(in_stock: float, committed: float, expected: float) -> None:
    assert rules.available(in_stock, committed) == expected


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"Valid": "tYES", "Frozen": "tNO", "InventoryItem": "tYES"}, None),
        ({"Valid": "tNO", "Frozen": "tNO", "InventoryItem": "tYES"}, rules.INACTIVE_ITEM),
        ({"Valid": "tYES", "Frozen": "tYES", "InventoryItem": "tYES"}, rules.FROZEN_ITEM),
        ({"Valid": "tYES", "Frozen": "tNO", "InventoryItem": "tNO"}, rules.NON_INVENTORY_ITEM),
        ({"Valid": "N", "Frozen": "Y"}, rules.INACTIVE_ITEM),
    ],
)
def test_item_exclusion(item: dict[str, str], expected: str | None) -> None:
    assert rules.item_exclusion(item) == expected


@pytest.mark.parametrize(
    ("warehouse", "mapping", "expected"),
    [
        (Warehouse("01"), wmap("01", "A"), None),
        (Warehouse("01"), None, rules.UNMAPPED_WAREHOUSE),
        (Warehouse("03", nettable=False), wmap("03", "A"), rules.NON_NETTABLE),
        (Warehouse("03", nettable=False), wmap("03", "A", include_non_nettable=True), None),
        (Warehouse("04", drop_ship=True), wmap("04", "A"), rules.DROP_SHIP),
        (Warehouse("04", drop_ship=True), wmap("04", "A", include_drop_ship=True), None),
        (Warehouse("05", inactive=True), wmap("05", "A"), rules.INACTIVE_WAREHOUSE),
        (Warehouse("05", inactive=True), wmap("05", "A", include_inactive=True), None),
        (Warehouse("05", inactive=True), None, rules.INACTIVE_WAREHOUSE),
    ],
)
def test_warehouse_exclusion(
    warehouse: Warehouse, mapping: WarehouseMapping | None, expected: str | None
) -> None:
    assert rules.warehouse_exclusion(warehouse, mapping) == expected


@pytest.mark.parametrize(
    ("mappings", "held"),
    [
        ({"01": wmap("01", "A"), "02": wmap("02", "B")}, set()),
        ({"01": wmap("01", "A", "aggregate"), "02": wmap("02", "A", "aggregate")}, set()),
        ({"01": wmap("01", "A"), "02": wmap("02", "A")}, {"01", "02"}),
        ({"01": wmap("01", "A", "aggregate"), "02": wmap("02", "A")}, {"01", "02"}),
    ],
)
def test_two_warehouses_into_one_need_aggregate(
    mappings: dict[str, WarehouseMapping], held: set[str]
) -> None:
    routes = rules.resolve_routes([Warehouse("01"), Warehouse("02")], mappings)
    assert {c for c, r in routes.items() if r.exclusion == rules.MAPPING_CONFLICT} == held


def test_aggregate_sums_available_per_ip_warehouse() -> None:
    routes = rules.resolve_routes(
        [Warehouse("01"), Warehouse("02"), Warehouse("03", nettable=False)],
        {
            "01": wmap("01", "c1_csv.A", "aggregate"),
            "02": wmap("02", "A", "aggregate"),
            "03": wmap("03", "A", "aggregate"),
        },
    )
    item = {
        "ItemWarehouseInfoCollection": [
            {"WarehouseCode": "01", "InStock": 10, "Committed": 2},
            {"WarehouseCode": "02", "InStock": 5, "Committed": 0},
            {"WarehouseCode": "03", "InStock": 100, "Committed": 0},
            {"WarehouseCode": "99", "InStock": 1, "Committed": 0},
        ]
    }
    rows = rules.stock_rows(item, routes)
    assert rules.ip_totals(rows) == {"A": 13}
    assert {r.sap_warehouse: r.exclusion for r in rows}["99"] == rules.UNMAPPED_WAREHOUSE


@pytest.mark.parametrize(
    ("group", "policy", "expected"),
    [
        (100, "send", (None, False)),
        (999, "send", (None, True)),
        (999, "hold", (rules.UNMAPPED_CATEGORY, True)),
        (101, "send", (rules.GROUP_EXCLUDED, False)),
        (None, "send", (None, True)),
    ],
)
def test_group_decision(group: int | None, policy: str, expected: tuple[str | None, bool]) -> None:
    groups = {
        100: ItemGroupMapping(sap_group_code=100, ip_category="x"),
        101: ItemGroupMapping(sap_group_code=101, ip_category="y", include_in_planning=False),
    }
    decision = rules.group_decision(group, groups, policy)
    assert (decision.exclusion, decision.unmapped) == expected


@pytest.mark.parametrize(
    ("sent", "removed", "live", "value", "expected"),
    [
        (None, False, True, 5.0, ("stock", 5.0)),
        (5.0, False, True, 5.0, None),
        (5.0, False, True, 6.0, ("stock", 6.0)),
        (5.0, False, False, 5.0, ("removed", None)),
        (5.0, True, False, None, None),
        (None, False, False, 3.0, None),
        (5.0, True, True, 5.0, ("stock", 5.0)),
    ],
)
def test_stock_action(
    sent: float | None,
    removed: bool,
    live: bool,
    value: float | None,
    expected: tuple[str, float | None] | None,
) -> None:
    assert rules.stock_action(sent, removed, live, value) == expected


@pytest.mark.parametrize(
    ("sent_hash", "sent_removed", "live", "new", "expected"),
    [
        (None, False, True, "h", "upsert"),
        ("h", False, True, "h", None),
        ("h", False, True, "g", "upsert"),
        ("h", False, False, "x", "removed"),
        ("x", True, False, "x", None),
        (None, False, False, "x", None),
    ],
)
def test_variant_action(
    sent_hash: str | None, sent_removed: bool, live: bool, new: str, expected: str | None
) -> None:
    assert rules.variant_action(sent_hash, sent_removed, live, new) == expected


@pytest.mark.parametrize(
    ("day", "clock", "expected"),
    [
        ("2025-05-13", "11:41:26", datetime(2025, 5, 13, 11, 41, 26, tzinfo=UTC)),
        ("2025-05-13T00:00:00", "1838", datetime(2025, 5, 13, 18, 38, tzinfo=UTC)),
        (None, "10:00", None),
    ],
)
def test_sap_datetime(day: str | None, clock: str, expected: datetime | None) -> None:
    assert rules.sap_datetime(day, clock) == expected


def test_since_rewinds_by_the_overlap_to_the_minute() -> None:
    day, minute = rules.since(datetime(2025, 1, 1, 0, 1, 30, tzinfo=UTC), 180)
    assert (day.isoformat(), minute) == ("2024-12-31", time(23, 58))


@pytest.mark.parametrize(("ip_id", "local"), [("c123_csv.01", "01"), ("01", "01"), ("c9_csv.A.B", "A.B")])
def test_local_warehouse_id(ip_id: str, local: str) -> None:
    assert rules.local_warehouse_id(ip_id) == local


def test_item_digest_follows_values_and_context_not_object_identity() -> None:
    line = {"WarehouseCode": "01", "InStock": 5.0, "Committed": 1.0}
    item = {"ItemCode": "A1", "ItemName": "x", "ItemWarehouseInfoCollection": [line, line]}
    same = json.loads(json.dumps(item))  # equal values, no shared objects
    digest = rules.item_hasher("ctx")(item)
    assert rules.item_hasher("ctx")(same) == digest
    assert rules.item_hasher("other")(same) != digest
    same["ItemWarehouseInfoCollection"][1]["InStock"] = 6.0
    assert rules.item_hasher("ctx")(same) != digest


@pytest.mark.parametrize("removed", [False, True])
@pytest.mark.parametrize("barcode", ["400000000001", None])
def test_variant_hash_equals_the_fields_hash_stored_before(barcode: str | None, removed: bool) -> None:
    """Hashes stored by earlier releases stay valid: a different text would resend every variant."""
    item = {"ItemCode": "A1", "ItemName": "Valve, brass", "BarCode": barcode}
    fields = rules.variant_fields(item)
    expected = rules.fields_hash(fields, removed=removed)
    assert rules.variant_hash(fields["sku"], fields["title"], fields["barcode"], removed) == expected

"""Tolerant parsing of what IP sends (reference §6: strings for costs, mixed date formats)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.integrations.inventory_planner.schemas import (
    IPPurchaseOrder,
    IPVariant,
    StatusMap,
    StatusType,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_purchase_orders,
)

FIXTURE_PO = {
    "id": "po_123", "reference": "PO-0008", "type": "po", "status": "open", "vendor": "acme",
    "warehouse": "c123_csv.5f0e1a", "warehouse_display_name": "WH1", "expected_date": "2025-07-01",
    "currency": "EUR", "total_ordered": 26, "total_received": 0, "readonly": False,
    "items": [{"id": "li_1", "sku": "A1", "replenishment": 4, "received": 0, "remaining": 4,
               "cost_price": 1.5}],
}


def test_reference_fixture_po_parses_with_decimal_quantities() -> None:
    po = IPPurchaseOrder.model_validate(FIXTURE_PO)
    assert po.items[0].cost_price == Decimal("1.5")
    assert po.expected_date == date(2025, 7, 1)
    assert po.is_readonly is False


@pytest.mark.parametrize("raw", ["1.50", 1.5, "1,5e0".replace(",", ".")])
def test_costs_as_strings_or_numbers_become_decimals(raw: object) -> None:
    assert parse_decimal(raw) == Decimal("1.5")


def test_blank_number_is_none_and_garbage_is_an_error() -> None:
    assert parse_decimal("") is None
    with pytest.raises(ValueError):
        parse_decimal("lots")
    with pytest.raises(ValueError):
        parse_decimal(True)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2025-07-01", datetime(2025, 7, 1, tzinfo=UTC)),
    ("2025-07-01T10:00:00Z", datetime(2025, 7, 1, 10, tzinfo=UTC)),
    ("2025-07-01T12:00:00+02:00", datetime(2025, 7, 1, 10, tzinfo=UTC)),
    ("2025-07-01 10:00:00", datetime(2025, 7, 1, 10, tzinfo=UTC)),
    (1751364000, datetime(2025, 7, 1, 10, tzinfo=UTC)),
    ("1751364000", datetime(2025, 7, 1, 10, tzinfo=UTC)),
    (1751364000000, datetime(2025, 7, 1, 10, tzinfo=UTC)),
])
def test_every_date_format_becomes_aware_utc(raw: object, expected: datetime) -> None:
    assert parse_datetime(raw) == expected


def test_unix_timestamp_becomes_utc_calendar_date() -> None:
    assert parse_date(1576619927) == date(2019, 12, 17)


def test_statuses_compare_case_insensitively() -> None:
    statuses = StatusMap()
    assert statuses.classify("OPEN").type is StatusType.active
    assert statuses.classify("Partially_Received").type is StatusType.active
    assert statuses.classify("cancelled").type is StatusType.cancelled


def test_custom_status_maps_through_the_type_table() -> None:
    statuses = StatusMap({"Waiting for Invoice": "active"})
    verdict = statuses.classify("waiting for invoice")
    assert verdict.type is StatusType.active and not verdict.is_default


def test_unknown_status_is_unmapped_never_open() -> None:
    verdict = StatusMap().classify("ordered")
    assert verdict.type is StatusType.unmapped and not verdict.mapped
    assert StatusMap().classify(None).type is StatusType.unmapped


def test_custom_status_cannot_map_to_unmapped() -> None:
    with pytest.raises(ValueError):
        StatusMap({"x": "unmapped"})


def test_bad_records_become_per_record_errors_not_a_failed_batch() -> None:
    raws = [
        FIXTURE_PO,
        {"reference": "no id"},
        "not an object",
        {"id": "po_9", "status": "open", "items": [{"id": "l1", "replenishment": "many"}]},
        {"id": "po_10", "status": "mystery"},
    ]
    parsed = parse_purchase_orders(raws, StatusMap())
    assert [po.id for po in parsed.good] == ["po_123"]
    kinds = {(e.index, e.kind) for e in parsed.errors}
    assert kinds == {(1, "invalid"), (2, "not_an_object"), (3, "invalid"), (4, "unmapped_status")}
    bad_line = next(e for e in parsed.errors if e.index == 3)
    assert bad_line.record_id == "po_9" and "items.0.replenishment" in bad_line.message


def test_without_a_status_map_unknown_statuses_still_parse() -> None:
    parsed = parse_purchase_orders([{"id": "po_10", "status": "mystery"}])
    assert parsed.good[0].status_type().type is StatusType.unmapped


def test_variant_warehouse_blocks_accept_list_or_mapping() -> None:
    as_list = IPVariant.model_validate({"id": "v1", "warehouse": [{"warehouse": "w1", "in_stock": "3"}]})
    as_dict = IPVariant.model_validate({"id": "v1", "warehouse": {"w1": {"in_stock": 3}}})
    assert as_list.warehouse[0].warehouse == as_dict.warehouse[0].warehouse == "w1"
    assert as_list.warehouse[0].in_stock == Decimal(3)


def test_numeric_ids_are_coerced_to_strings() -> None:
    assert IPVariant.model_validate({"id": 42, "removed": "false"}).id == "42"

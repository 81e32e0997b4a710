"""The pure mapping rules, table by table."""

from __future__ import annotations

import pytest

from app.mappings import rules
from app.mappings.rules import WarehouseLink
from app.models.mapping import WarehouseMode

D, A = WarehouseMode.direct, WarehouseMode.aggregate


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01", "01"),
        ("  W01 ", "W01"),
        ("ABCDEFGH", "ABCDEFGH"),
        (12, "12"),
    ],
)
def test_warehouse_codes_are_trimmed(value: object, expected: str) -> None:
    assert rules.warehouse_code(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("ABCDEFGHI", "at most 8"),
        (None, "must be a string"),
        (True, "must be a string"),
        ("W\t1", "tabs or line breaks"),
    ],
)
def test_bad_warehouse_codes_say_why(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules.warehouse_code(value)


@pytest.mark.parametrize(
    ("value", "ok"), [("V10000", True), ("C" * 15, True), ("C" * 16, False), (" ", False)]
)
def test_card_codes_fit_sap(value: str, ok: bool) -> None:
    if ok:
        assert rules.card_code(value) == value.strip()
    else:
        with pytest.raises(ValueError):
            rules.card_code(value)


@pytest.mark.parametrize(
    ("links", "broken"),
    [
        ([WarehouseLink("01", "ip1", D)], {}),
        ([WarehouseLink("01", "ip1", D), WarehouseLink("02", "ip2", D)], {}),
        ([WarehouseLink("01", "ip1", A), WarehouseLink("02", "ip1", A)], {}),
        ([WarehouseLink("01", "ip1", D), WarehouseLink("02", "ip1", A)], {"ip1": ["01", "02"]}),
        ([WarehouseLink("01", "ip1", D), WarehouseLink("02", "ip1", D)], {"ip1": ["01", "02"]}),
        ([WarehouseLink("01", "ip1", D), WarehouseLink("02", "ip1", D, active=False)], {}),
        (
            [WarehouseLink("03", "ip1", A), WarehouseLink("01", "ip1", A), WarehouseLink("02", "ip1", D)],
            {"ip1": ["01", "02", "03"]},
        ),
    ],
)
def test_many_to_one_needs_every_mapping_aggregate(
    links: list[WarehouseLink], broken: dict[str, list[str]]
) -> None:
    found = rules.violations(links)
    assert {ip: [link.sap_warehouse_code for link in group] for ip, group in found.items()} == broken


def test_conflict_for_names_the_other_warehouses_and_the_fix() -> None:
    existing = [WarehouseLink("01", "ip1", D), WarehouseLink("09", "ip9", D)]
    candidate = WarehouseLink("02", "ip1", A)
    clashing = rules.conflict_for(candidate, existing)
    assert [link.sap_warehouse_code for link in clashing] == ["01"]
    text = rules.explain_conflict(candidate, clashing)
    assert "01 (direct)" in text and "mode=aggregate on 01 and 02" in text


def test_a_mapping_does_not_conflict_with_its_own_previous_version() -> None:
    assert rules.conflict_for(WarehouseLink("01", "ip1", A), [WarehouseLink("01", "ip1", D)]) == []
    assert (
        rules.conflict_for(WarehouseLink("02", "ip1", D, active=False), [WarehouseLink("01", "ip1", D)])
        == []
    )

"""Table tests of the pure detectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.sync import detectors, rules
from app.sync.detectors import WarehouseStock

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_warehouse_findings() -> None:
    stocks = [
        WarehouseStock("01", None, 10, 2),
        WarehouseStock("03", rules.UNMAPPED_WAREHOUSE, 5, 1),
        WarehouseStock("04", rules.NON_NETTABLE, 7, 3),
        WarehouseStock("05", rules.DROP_SHIP, 0, 0),
    ]
    assert [f.subject for f in detectors.unmapped_warehouses(stocks)] == [{"warehouse": "03"}]
    assert [f.subject for f in detectors.non_nettable_stock(stocks)] == [{"warehouse": "04"}]


def test_conflicts_and_categories() -> None:
    assert detectors.mapping_conflicts({"A": ["01", "02"]})[0].subject == {"ip_warehouse": "A"}
    assert [f.subject for f in detectors.unmapped_categories({107: 3, None: 1, 108: 0})] == [
        {"item_group": 107},
        {"item_group": None},
    ]


@pytest.mark.parametrize(
    ("exclusion", "ip_live", "recs", "raised"),
    [
        (rules.INACTIVE_ITEM, True, 0, True),
        (rules.FROZEN_ITEM, False, 1, True),
        (rules.INACTIVE_ITEM, False, 0, False),
        (None, True, 3, False),
        (rules.UNMAPPED_CATEGORY, True, 0, False),
    ],
)
def test_inactive_item(exclusion: str | None, ip_live: bool, recs: int, raised: bool) -> None:
    assert (
        detectors.inactive_item("A1", exclusion, ip_live=ip_live, open_recommendations=recs) is not None
    ) is raised


@pytest.mark.parametrize(
    ("sap", "ip", "raised"),
    [
        (100, 100, False),
        (100, 99, False),
        (100, 90, True),
        (3, 1, True),
        (2, 1, False),
        (10, None, False),
        (0, 5, True),
        (10000, 9960, False),
    ],
)
def test_drift_needs_both_tolerances(sap: float, ip: float | None, raised: bool) -> None:
    found = detectors.drift(
        "A1", "01", sap_available=sap, ip_in_stock=ip, avg_price=2.0, abs_tolerance=1.0, pct_tolerance=5.0
    )
    assert (found is not None) is raised
    if found:
        assert found.evidence["value_at_cost"] == abs(sap - (ip or 0)) * 2.0


@pytest.mark.parametrize(
    ("last", "raised"), [(NOW - timedelta(minutes=10), False), (NOW - timedelta(hours=2), True), (None, True)]
)
def test_sync_lag(last: datetime | None, raised: bool) -> None:
    assert (detectors.sync_lag("stock", last, NOW, timedelta(hours=1)) is not None) is raised


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        (datetime(2026, 6, 1, 12, 0, tzinfo=UTC), "UTC", datetime(2026, 6, 1, 1, 0, tzinfo=UTC)),
        (datetime(2026, 6, 1, 0, 30, tzinfo=UTC), "UTC", datetime(2026, 5, 31, 1, 0, tzinfo=UTC)),
        (datetime(2026, 6, 1, 12, 0, tzinfo=UTC), "Europe/Paris", datetime(2026, 5, 31, 23, 0, tzinfo=UTC)),
    ],
)
def test_feed_cutoff(now: datetime, zone: str, expected: datetime) -> None:
    assert detectors.feed_cutoff(now, zone, "02:00", 60) == expected


@pytest.mark.parametrize(
    ("queued", "full_at", "raised"),
    [
        (0, NOW - timedelta(hours=2), False),
        (2, NOW - timedelta(hours=2), True),
        (0, None, True),
        (0, NOW - timedelta(days=2), True),
    ],
)
def test_feed_deadline(queued: int, full_at: datetime | None, raised: bool) -> None:
    assert (
        detectors.feed_deadline(NOW, queued_before_cutoff=queued, last_full_success_at=full_at) is not None
    ) is raised


def test_sku_mismatches() -> None:
    assert detectors.ip_variant_without_item("Z", sap_known=False, ip_removed=False) is not None
    assert detectors.ip_variant_without_item("Z", sap_known=True, ip_removed=False) is None
    old = NOW - timedelta(days=2)
    assert (
        detectors.item_never_reached_ip(
            "A", live=True, sent_at=old, in_ip=False, now=NOW, grace=timedelta(hours=26)
        )
        is not None
    )
    assert (
        detectors.item_never_reached_ip(
            "A", live=True, sent_at=NOW, in_ip=False, now=NOW, grace=timedelta(hours=26)
        )
        is None
    )

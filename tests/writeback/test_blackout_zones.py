"""Blackout windows on a named zone's wall clock, across summer time changes (all times in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.writeback.blackout import BlackoutSyntaxError, parse, window_end

BERLIN = "Mon-Fri 08:00-09:30 Europe/Berlin"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "now", "end"),
    [
        # CEST (UTC+2) in June, CET (UTC+1) in January: the same wall-clock window moves in UTC.
        (BERLIN, "2025-06-04 06:15", "2025-06-04 07:30"),
        (BERLIN, "2025-01-08 07:15", "2025-01-08 08:30"),
        (BERLIN, "2025-06-04 08:15", None),  # 10:15 in Berlin; inside the window if read as UTC
        (BERLIN, "2025-06-04 05:59", None),  # 07:59 in Berlin
        (BERLIN, "2025-06-04 07:30", None),  # the end is exclusive
        # The local weekday counts: Sat 00:30 in Los Angeles is still Friday's overnight window,
        # and Fri 23:30 there is already Saturday in UTC.
        ("Fri 23:00-01:00 America/Los_Angeles", "2025-06-07 07:30", "2025-06-07 08:00"),
        ("Fri 23:00-01:00 America/Los_Angeles", "2025-06-07 06:30", "2025-06-07 08:00"),
        ("Fri 23:00-01:00 America/Los_Angeles", "2025-06-06 23:30", None),  # Fri 16:30 there
        # Spring forward, Europe/Berlin 2025-03-30 (a Sunday) 02:00 CET -> 03:00 CEST.
        ("Sun 01:00-04:00 Europe/Berlin", "2025-03-30 00:00", "2025-03-30 02:00"),  # 2 h, not 3
        ("Sun 01:00-04:00 Europe/Berlin", "2025-03-30 01:59", "2025-03-30 02:00"),
        ("Sun 01:30-02:30 Europe/Berlin", "2025-03-30 01:15", "2025-03-30 01:30"),  # 02:30 -> 03:30
        ("Sun 02:30-05:00 Europe/Berlin", "2025-03-30 00:59", None),  # opens at 03:30 CEST
        ("Sun 02:30-05:00 Europe/Berlin", "2025-03-30 01:30", "2025-03-30 03:00"),
        # Fall back, 2025-10-26 (a Sunday) 03:00 CEST -> 02:00 CET: 02:00-03:00 happens twice.
        ("Sun 01:00-04:00 Europe/Berlin", "2025-10-25 23:00", "2025-10-26 03:00"),  # 4 h, not 3
        ("Sun 02:15-02:45 Europe/Berlin", "2025-10-26 00:15", "2025-10-26 01:45"),  # 1st to 2nd
        ("Sun 02:15-02:45 Europe/Berlin", "2025-10-26 01:20", "2025-10-26 01:45"),
        ("Sun 02:15-02:45 Europe/Berlin", "2025-10-26 01:45", None),
        ("Sun 02:15-02:45 Europe/Berlin", "2025-10-26 00:14", None),
        # New York changes on other dates (2025-03-09): an overnight window across its change.
        ("Sat 23:00-03:00 America/New_York", "2025-03-09 06:30", "2025-03-09 07:00"),  # 3:00 EDT
        # Several zones in one spec, and an explicit UTC.
        ("Mon 08:00-09:00 Europe/Berlin; Mon 08:00-09:00 UTC", "2025-06-02 06:30", "2025-06-02 07:00"),
        ("Mon 08:00-09:00 Europe/Berlin; Mon 08:00-09:00 UTC", "2025-06-02 08:30", "2025-06-02 09:00"),
        # Back-to-back windows in different zones are one wait (07:00-08:00Z then 08:00-09:00Z).
        ("Mon 09:00-10:00 Europe/Berlin; Mon 08:00-09:00", "2025-06-02 07:30", "2025-06-02 09:00"),
    ],
)
def test_window_end_in_a_zone(spec: str, now: str, end: str | None) -> None:
    assert window_end(parse(spec), utc(now)) == (utc(end) if end else None)


def test_the_end_is_given_in_the_zone_of_now() -> None:
    now = datetime(2025, 6, 4, 8, 15, tzinfo=ZoneInfo("Europe/Berlin"))
    end = window_end(parse(BERLIN), now)
    assert end == utc("2025-06-04 07:30") and end is not None and end.tzinfo == now.tzinfo


def test_a_naive_now_is_utc() -> None:
    assert window_end(parse(BERLIN), datetime(2025, 6, 4, 6, 15)) == datetime(2025, 6, 4, 7, 30)


@pytest.mark.parametrize("bad", ["Mon 08:00-09:00 Mars/Olympus", "Mon 08:00-09:00 Europe/Berlin x"])
def test_unknown_zones_are_refused(bad: str) -> None:
    with pytest.raises(BlackoutSyntaxError):
        parse(bad)

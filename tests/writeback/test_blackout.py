from datetime import UTC, datetime

import pytest

from app.writeback.blackout import BlackoutSyntaxError, parse, window_end

SPEC = "Mon-Fri 08:00-09:30; Sat 06:00-07:00"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 6, day, hour, minute, tzinfo=UTC)  # 2025-06-02 is a Monday


def test_inside_a_weekday_window_waits_until_its_end() -> None:
    assert window_end(parse(SPEC), at(4, 8, 15)) == at(4, 9, 30)


def test_outside_every_window_does_not_wait() -> None:
    assert window_end(parse(SPEC), at(4, 9, 30)) is None
    assert window_end(parse(SPEC), at(8, 8, 15)) is None  # Sunday


def test_saturday_window() -> None:
    assert window_end(parse(SPEC), at(7, 6, 59)) == at(7, 7, 0)


def test_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    windows = parse("Fri 23:00-01:00")
    assert window_end(windows, at(7, 0, 30)) == at(7, 1, 0)
    assert window_end(windows, at(8, 0, 30)) is None


def test_back_to_back_windows_are_one_wait() -> None:
    assert window_end(parse("Mon 08:00-09:00; Mon 09:00-10:00"), at(2, 8, 30)) == at(2, 10, 0)


def test_empty_spec_means_no_window() -> None:
    assert parse("") == [] and parse(" ; ") == []


@pytest.mark.parametrize("bad", ["Mon 8-9", "Funday 08:00-09:00", "Mon 08:00-08:00", "Mon 25:00-26:00"])
def test_unreadable_specs_are_refused(bad: str) -> None:
    with pytest.raises(BlackoutSyntaxError):
        parse(bad)

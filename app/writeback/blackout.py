"""Reporting windows during which bulk SAP writes wait (pure): "Mon-Fri 08:00-09:30; Sat 06:00-07:00".

Intensive SAP reports and bulk postings contend for the same rows; the seed's "Common failures"
advice is to keep integration writes out of peak reporting windows rather than fight the locks.
A window may cross midnight ("Fri 23:00-01:00"): it then belongs to the day it starts on.

Times are UTC unless the window names an IANA zone after it ("Mon-Fri 08:00-09:30 Europe/Berlin"):
days and times are then that zone's wall clock, summer time included. On the days the clocks
change, a time that occurs twice opens a window at its first occurrence and closes it at its
second (the window covers every moment the clock shows inside it), and a time that does not exist
is read as PEP 495 does, shifted forward by the gap (02:30 on a spring-forward night is 03:30).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(
    r"^(?P<days>[A-Za-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})"
    r"(?:\s+(?P<zone>[A-Za-z][A-Za-z0-9_+\-/]*))?$"
)


class BlackoutSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday, in the window's zone
    start: time
    end: time
    zone: tzinfo = field(default=UTC)

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start  # "24:00" reads as 00:00: the end of the day


def _day(token: str) -> int:
    key = token.strip().lower()[:3]
    if key not in DAYS:
        raise BlackoutSyntaxError(f"unknown day {token!r}")
    return DAYS.index(key)


def _days(spec: str) -> frozenset[int]:
    found: set[int] = set()
    for part in spec.split(","):
        if "-" in part:
            first, last = (_day(p) for p in part.split("-", 1))
            span = (last - first) % 7
            found.update((first + i) % 7 for i in range(span + 1))
        else:
            found.add(_day(part))
    return frozenset(found)


def _time(text: str) -> time:
    hours, minutes = (int(p) for p in text.split(":"))
    if hours == 24 and minutes == 0:
        return time(0, 0)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise BlackoutSyntaxError(f"invalid time {text!r}")
    return time(hours, minutes)


def _zone(name: str | None) -> tzinfo:
    if name is None or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BlackoutSyntaxError(f"unknown time zone {name!r} (expected an IANA name such as Europe/Berlin)")


def parse(spec: str) -> list[Window]:
    """Parse the `SAPB1_WRITE_BLACKOUT` value; an empty value means no window."""
    windows = []
    for chunk in filter(None, (c.strip() for c in spec.split(";"))):
        match = _WINDOW.match(chunk)
        if not match:
            raise BlackoutSyntaxError(
                f"cannot read blackout window {chunk!r} "
                "(expected e.g. 'Mon-Fri 08:00-09:30' or 'Mon-Fri 08:00-09:30 Europe/Berlin')"
            )
        start, end = _time(match["start"]), _time(match["end"])
        if start == end:
            raise BlackoutSyntaxError(f"empty blackout window {chunk!r}")
        windows.append(Window(_days(match["days"]), start, end, _zone(match["zone"])))
    return windows


def _instant(day: date, at: time, zone: tzinfo, *, closing: bool) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone`. fold=0 is a repeated time's first
    occurrence and a skipped time shifted forward; a closing time takes the later of the two
    readings, i.e. a repeated time's second occurrence (and still the forward shift of a gap)."""
    wall = datetime.combine(day, at, tzinfo=zone)
    first = wall.astimezone(UTC)
    return max(first, wall.replace(fold=1).astimezone(UTC)) if closing else first


def _end_if_inside(window: Window, now: datetime) -> datetime | None:
    # The window that may contain `now` opened today or (when it crosses midnight) yesterday, on
    # the window's own calendar. Instants are compared in UTC: aware datetimes sharing a tzinfo
    # compare by wall clock, which is wrong across a DST change.
    local_day = now.astimezone(window.zone).date()
    for back in (0, 1):
        day = local_day - timedelta(days=back)
        if day.weekday() not in window.days:
            continue
        opened = _instant(day, window.start, window.zone, closing=False)
        last_day = day + timedelta(days=1) if window.crosses_midnight else day
        closes = _instant(last_day, window.end, window.zone, closing=True)
        if opened <= now < closes:
            return closes
    return None


def window_end(windows: list[Window], now: datetime) -> datetime | None:
    """When the blackout containing `now` ends (the latest end of overlapping windows), else None.

    `now` should be aware (a naive one is taken as UTC); the end is given in `now`'s zone."""
    instant = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    end = _latest_end(windows, instant)
    if end is None:
        return None
    return end.replace(tzinfo=None) if now.tzinfo is None else end.astimezone(now.tzinfo)


def _latest_end(windows: list[Window], now: datetime) -> datetime | None:
    ends = [end for w in windows if (end := _end_if_inside(w, now)) is not None]
    if not ends:
        return None
    latest = max(ends)
    # Back-to-back windows ("08:00-09:00; Mon 09:00-10:00") are one wait.
    later = _latest_end(windows, latest)
    return later if later is not None and later > latest else latest

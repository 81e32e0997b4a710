"""Reporting windows during which bulk SAP writes wait (pure): "Mon-Fri 08:00-09:30; Sat 06:00-07:00".

Intensive SAP reports and bulk postings contend for the same rows; the seed's "Common failures"
advice is to keep integration writes out of peak reporting windows rather than fight the locks.
Times are in the zone the caller passes (the SAP server's local time, UTC by default). A window
may cross midnight ("Fri 23:00-01:00"): it then belongs to the day it starts on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(?P<days>[A-Za-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


class BlackoutSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    @property
    def length(self) -> timedelta:
        start = timedelta(hours=self.start.hour, minutes=self.start.minute)
        end = timedelta(hours=self.end.hour, minutes=self.end.minute)
        return end - start if end > start else end - start + timedelta(days=1)


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


def parse(spec: str) -> list[Window]:
    """Parse the `SAPB1_WRITE_BLACKOUT` value; an empty value means no window."""
    windows = []
    for chunk in filter(None, (c.strip() for c in spec.split(";"))):
        match = _WINDOW.match(chunk)
        if not match:
            raise BlackoutSyntaxError(
                f"cannot read blackout window {chunk!r} (expected e.g. 'Mon-Fri 08:00-09:30')"
            )
        start, end = _time(match["start"]), _time(match["end"])
        if start == end:
            raise BlackoutSyntaxError(f"empty blackout window {chunk!r}")
        windows.append(Window(_days(match["days"]), start, end))
    return windows


def _end_if_inside(window: Window, now: datetime) -> datetime | None:
    # The window that may contain `now` started today or (when it crosses midnight) yesterday.
    for back in (0, 1):
        day = now - timedelta(days=back)
        if day.weekday() not in window.days:
            continue
        opened = datetime.combine(day.date(), window.start, tzinfo=now.tzinfo)
        closes = opened + window.length
        if opened <= now < closes:
            return closes
    return None


def window_end(windows: list[Window], now: datetime) -> datetime | None:
    """When the blackout containing `now` ends (the latest end of overlapping windows), else None."""
    ends = [end for w in windows if (end := _end_if_inside(w, now)) is not None]
    if not ends:
        return None
    latest = max(ends)
    # Back-to-back windows ("08:00-09:00; Mon 09:00-10:00") are one wait.
    later = window_end(windows, latest)
    return later if later is not None and later > latest else latest

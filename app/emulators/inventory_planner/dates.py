"""Dates as IP handles them (reference §6 "Dates on writes", §11.5).

Internally every date is a float Unix timestamp (UTC). Responses render calendar dates as
YYYY-MM-DD and instants (last_modified, created_at, updated_at) as ISO 8601, like the ARF fixture.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

# In strict mode a YYYY-MM-DD string on write was stored as 1969-12-31 (reference §6): the
# string parsed as 0 and rendered in a US time zone. We store the day before the epoch, in UTC.
STRICT_STRING_QUIRK = -86400.0


class DateError(ValueError):
    pass


def now_ts() -> float:
    return datetime.now(UTC).timestamp()


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def parse_text_date(value: str) -> float:
    """YYYY-MM-DD or ISO 8601 (naive means UTC)."""
    text = value.strip().replace("Z", "+00:00")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC).timestamp()
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise DateError(f"unparseable date {value!r}")
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def parse_write_date(value: Any, mode: str) -> float | None:
    """A date field of a POST/PUT/PATCH body, per the configured date mode."""
    if value is None or value == "":
        return None
    number = _as_number(value)
    if number is not None:
        return number
    if not isinstance(value, str):
        raise DateError(f"unparseable date {value!r}")
    if mode == "strict":
        return STRICT_STRING_QUIRK
    return parse_text_date(value)


def parse_any(value: str) -> float:
    """A date in a query string: Unix seconds, YYYY-MM-DD or ISO 8601 (reference §10.9)."""
    number = _as_number(value)
    return number if number is not None else parse_text_date(value)


def render_date(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).date().isoformat()


def render_instant(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC).isoformat()

"""Posting periods, cached per process and refreshed: finance closes months rarely, but a stale
"open" must not outlive `WRITEBACK_PERIOD_CACHE_SECONDS`; the pipeline re-reads inside the lock
with a shorter maximum age, and drops the cache whenever SAP answers -4013 anyway."""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from datetime import date

from app.integrations.sap_b1.client import SapB1Client
from app.integrations.sap_b1.periods import PostingPeriods, load_periods

_cache: dict[str, tuple[float, PostingPeriods]] = {}
# Per client (a client lives in one process and one event loop; a lock must not outlive its loop).
_loading: weakref.WeakKeyDictionary[SapB1Client, asyncio.Lock] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class PeriodCheck:
    open: bool
    period_code: str | None
    status: str | None
    first_open: date | None


async def periods(client: SapB1Client, max_age: float) -> PostingPeriods:
    """Cached; one load at a time per Service Layer, so the jobs that found the cache stale
    together share one load instead of each asking SAP."""
    if (fresh := _fresh(client.root, max_age)) is not None:
        return fresh
    async with _loading.setdefault(client, asyncio.Lock()):
        if (fresh := _fresh(client.root, max_age)) is not None:
            return fresh
        loaded = await load_periods(client)
        _cache[client.root] = (time.monotonic(), loaded)
        return loaded


def _fresh(root: str, max_age: float) -> PostingPeriods | None:
    cached = _cache.get(root)
    return cached[1] if cached is not None and time.monotonic() - cached[0] <= max_age else None


def invalidate(client: SapB1Client) -> None:
    _cache.pop(client.root, None)


async def check(client: SapB1Client, day: date, max_age: float) -> PeriodCheck:
    return evaluate(await periods(client, max_age), day)


def evaluate(loaded: PostingPeriods, day: date) -> PeriodCheck:
    """`check` on periods already loaded: no I/O, so it can run inside a database transaction."""
    period = loaded.period_for(day)
    is_open = period is not None and period.postable
    return PeriodCheck(
        is_open,
        period.period_code if period else None,
        period.status.value if period else None,
        day if is_open else loaded.first_open_date_on_or_after(day),
    )

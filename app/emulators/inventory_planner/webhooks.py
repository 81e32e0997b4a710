"""The `purchase-orders/connection-save` emitter (reference §8).

IP documents no body shape, headers, signature, retries or ordering, so the emulator picks one
body — `{"purchase-order": <PO projected to the subscription's fields>}`, JSON, no signature — and
makes the rest knobs: retries with bounded exponential backoff on non-2xx or connection errors, and
test modes that duplicate, delay, drop or reorder deliveries. A receiver built against this must
treat each delivery as a hint (reference §10.3).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.emulators.inventory_planner.config import WebhookConfig

TOPIC = "purchase-orders/connection-save"
USER_AGENT = "InventoryPlanner-Emulator/1.0"
MAX_LOG = 500


@dataclass
class Event:
    id: int
    subscription_id: str
    address: str
    body: dict[str, Any]


@dataclass
class WebhookStats:
    events: int = 0
    sent: int = 0  # deliveries answered 2xx
    failed: int = 0  # deliveries that gave up after the last attempt
    retried: int = 0
    dropped: int = 0
    duplicated: int = 0
    pending: int = 0
    attempts: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_LOG))

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "sent": self.sent,
            "failed": self.failed,
            "retried": self.retried,
            "dropped": self.dropped,
            "duplicated": self.duplicated,
            "pending": self.pending,
            "attempts": list(self.attempts),
        }


class Emitter:
    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.stats = WebhookStats()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # the store may be driven from a test thread and the server loop
        self._tasks: set[asyncio.Task[None]] = set()
        self._reorder_buffer: list[Event] = []

    def emit(self, subscriptions: list[tuple[str, str]], body_for: dict[str, dict[str, Any]]) -> list[int]:
        """Queue one event per subscription (id, address); must run inside an event loop."""
        events = [Event(next(self._ids), sid, address, body_for[sid]) for sid, address in subscriptions]
        with self._lock:
            self.stats.events += len(events)
        for event in events:
            self._dispatch(event)
        return [e.id for e in events]

    def _dispatch(self, event: Event) -> None:
        mode = self.config.mode
        if mode == "dropped":
            with self._lock:
                self.stats.dropped += 1
            return
        if mode == "reordered":
            self._buffer(event)
            return
        copies = 2 if mode == "duplicate" else 1
        with self._lock:
            self.stats.duplicated += copies - 1
        delay = self.config.delay_seconds if mode == "delayed" else 0.0
        for _ in range(copies):
            self._spawn(self._deliver_later([event], delay))

    def _buffer(self, event: Event) -> None:
        # Reordering needs company: hold events for delay_seconds, then send them newest first.
        first = not self._reorder_buffer
        self._reorder_buffer.append(event)
        if first:
            self._spawn(self._flush_reversed())

    async def _flush_reversed(self) -> None:
        await asyncio.sleep(max(self.config.delay_seconds, 0.05))
        batch, self._reorder_buffer = self._reorder_buffer, []
        await self._deliver_later(list(reversed(batch)), 0.0)

    def _spawn(self, coro: Any) -> None:
        with self._lock:
            self.stats.pending += 1
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        with self._lock:
            self.stats.pending -= 1

    async def _deliver_later(self, events: list[Event], delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        async with httpx.AsyncClient(
            timeout=self.config.timeout_seconds, headers={"User-Agent": USER_AGENT}
        ) as client:
            for event in events:
                await self._deliver(client, event)

    async def _deliver(self, client: httpx.AsyncClient, event: Event) -> None:
        for attempt in range(1, self.config.max_attempts + 1):
            outcome = await self._attempt(client, event)
            self._log(event, attempt, outcome)
            if outcome == "ok":
                with self._lock:
                    self.stats.sent += 1
                return
            if attempt < self.config.max_attempts:
                with self._lock:
                    self.stats.retried += 1
                await asyncio.sleep(self._backoff(attempt))
        with self._lock:
            self.stats.failed += 1

    async def _attempt(self, client: httpx.AsyncClient, event: Event) -> str:
        try:
            response = await client.post(event.address, json=event.body)
        except httpx.HTTPError as exc:
            return f"error: {type(exc).__name__}"
        return "ok" if 200 <= response.status_code < 300 else f"http {response.status_code}"

    def _backoff(self, attempt: int) -> float:
        return min(self.config.backoff_seconds * 2 ** (attempt - 1), self.config.backoff_max_seconds)

    def _log(self, event: Event, attempt: int, outcome: str) -> None:
        with self._lock:
            self.stats.attempts.append(
                {
                    "event": event.id,
                    "subscription": event.subscription_id,
                    "address": event.address,
                    "attempt": attempt,
                    "outcome": outcome,
                    "purchase_order": event.body.get("purchase-order", {}).get("id"),
                }
            )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

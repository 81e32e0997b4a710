"""Prompt waits on Redis locks and semaphore slots: all-or-none multi-key locks, woken on release.

`app.kit.locker` waits by polling (20 ms + backoff for a slot, 5-100 ms for the locks). At 50 ms
per SAP write that sleep is as long as the work it waits for: a slot stayed idle for half a
write after its holder let go. Here a release pushes a wake-up onto a list next to the key and
waiters block on it (BLPOP), so the next waiter starts within a Redis round trip; the timeout of
that BLPOP is the old poll, kept as the fallback for holders that never wake anyone (an expired
lease, a reader releasing a slot through `RedisSemaphore.release`).

Documents of one process wait for each other's keys without Redis at all (`_LocalKeys`): a key
this process holds is taken in Redis only after its local holder let go, so Redis sees only the
contention between processes. Before, a worker's own documents competed through Redis: 4.5 tries
(an EVAL and a BLPOP each) per document for its SKUs, a quarter of the worker's CPU. Likewise a
slot its holder lets go goes straight to the next waiter of the same process (`_SlotWaiters`),
a few times in a row before it goes back through Redis to the other processes.

The keys and their meaning are exactly `RedisLock`'s (token value, PX lease) and
`RedisSemaphore`'s (zset of tokens scored by lease expiry, server clock), so these waits mix
safely with the kit's own holders of the same keys.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable

from redis.asyncio import Redis

from app.kit.locker import LockTimeout, RedisSemaphore

log = logging.getLogger("b1bridge.kit.gate")
WAKE = ":wake"
FALLBACK_POLL = 0.05  # seconds a waiter blocks before re-trying without a wake-up

# All keys or none. KEYS: lock keys; ARGV: token, lease_ms. One round trip instead of one per
# key, and a document that cannot have every SKU holds none while it waits (no convoys).
_LOCK_ALL = """
for _, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 then return 0 end
end
for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'PX', ARGV[2]) end
return 1
"""
# KEYS: lock keys; ARGV: token, lease_ms. Renews only what this token still holds.
_EXTEND_ALL = """
local n = 0
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('PEXPIRE', k, ARGV[2]); n = n + 1 end
end
return n
"""
# KEYS: lock keys; ARGV: token. Token-checked delete, then one wake-up per key (a list holding at
# most one: "it is free now" needs saying once; it expires so idle keys leave nothing behind).
_UNLOCK_ALL = """
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
  local w = k .. ':wake'
  redis.call('RPUSH', w, 1)
  redis.call('LTRIM', w, -1, -1)
  redis.call('PEXPIRE', w, 2000)
end
return 1
"""
# KEYS[1] semaphore zset; ARGV: token, limit. One freed slot wakes one waiter (BLPOP is FIFO
# across clients, hence across processes); at most `limit` wake-ups are ever pending.
_SEM_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local w = KEYS[1] .. ':wake'
redis.call('RPUSH', w, 1)
redis.call('LTRIM', w, -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', w, 2000)
return 1
"""


def _token() -> str:
    return secrets.token_hex(16)


async def _wait_wake(redis: Redis, keys: list[str], seconds: float) -> None:
    await redis.blpop([k + WAKE for k in keys], timeout=seconds)  # type: ignore[arg-type,misc]


@contextlib.asynccontextmanager
async def _renewing(
    renew: Callable[[], Awaitable[object]], lease_seconds: float, what: str
) -> AsyncIterator[None]:
    """Renew a lease every third of its length while the body runs (a long SAP call keeps it)."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(lease_seconds / 3)
            try:
                if not await renew():
                    log.warning("gate.lease_lost", extra={"lease": what})
                    return
            except Exception:  # a Redis blip: keep trying until the lease really runs out
                log.warning("gate.renew_failed", extra={"lease": what}, exc_info=True)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class _LocalKeys:
    """The lock keys this process's `Locks` hold, and the documents waiting for them (one table
    per event loop). All or none here too: a waiter is given its keys, in arrival order among
    those that can have them all, the moment the last of them is released."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.waiting: dict[asyncio.Future[None], frozenset[str]] = {}  # in arrival order

    async def take(self, keys: frozenset[str], seconds: float) -> None:
        if self.held.isdisjoint(keys):
            self.held |= keys
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[future] = keys
        try:
            async with asyncio.timeout(seconds):
                await future
        except BaseException:
            if self.waiting.pop(future, None) is None and future.done() and not future.cancelled():
                self.give(keys)  # given to us just as we stopped waiting: hand them on
            raise

    def give(self, keys: frozenset[str]) -> None:
        self.held -= keys
        for future, wanted in list(self.waiting.items()):
            if future.done():  # its waiter was cancelled
                del self.waiting[future]
            elif self.held.isdisjoint(wanted):
                del self.waiting[future]
                self.held |= wanted
                future.set_result(None)


_LOCAL: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LocalKeys] = weakref.WeakKeyDictionary()


def _local() -> _LocalKeys:
    loop = asyncio.get_running_loop()
    table = _LOCAL.get(loop)
    if table is None:
        table = _LOCAL[loop] = _LocalKeys()
    return table


class Locks:
    """Leased locks on a set of keys, taken all at once or not at all; released in parts. Within
    a process, first from `_LocalKeys`; then in Redis, against other processes."""

    def __init__(self, redis: Redis, keys: list[str], lease_seconds: float) -> None:
        self.redis, self.keys, self.lease_seconds = redis, sorted(set(keys)), lease_seconds
        self.token = _token()
        self.held: list[str] = []

    async def _try(self) -> bool:
        ms = str(int(self.lease_seconds * 1000))
        ok = await self.redis.eval(_LOCK_ALL, len(self.keys), *self.keys, self.token, ms)  # type: ignore[misc]
        if ok:
            self.held = list(self.keys)
        return bool(ok)

    async def acquire(self, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        local, keys = _local(), frozenset(self.keys)
        try:
            await local.take(keys, wait_seconds)
        except TimeoutError:
            raise LockTimeout(f"Locks {self.keys} still held after {wait_seconds:.1f}s") from None
        try:
            while not await self._try():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LockTimeout(f"Locks {self.keys} still held after {wait_seconds:.1f}s")
                await _wait_wake(self.redis, self.keys, min(FALLBACK_POLL, left))
        except BaseException:
            local.give(keys)
            raise

    async def _extend(self) -> bool:
        if not self.held:
            return True
        ms = str(int(self.lease_seconds * 1000))
        n = await self.redis.eval(_EXTEND_ALL, len(self.held), *self.held, self.token, ms)  # type: ignore[misc]
        return bool(n)

    async def release(self, keys: list[str] | None = None) -> None:
        """Release `keys` (default: all still held); the rest stay held and renewed."""
        drop = [k for k in self.held if keys is None or k in keys]
        self.held = [k for k in self.held if k not in drop]
        if drop:
            try:
                with contextlib.suppress(Exception):  # Redis gone: the leases expire on their own
                    await self.redis.eval(_UNLOCK_ALL, len(drop), *drop, self.token)  # type: ignore[misc]
            finally:  # after Redis: a local waiter given the keys finds them free there too
                _local().give(frozenset(drop))

    @contextlib.asynccontextmanager
    async def hold(self, wait_seconds: float) -> AsyncIterator[Locks]:
        await self.acquire(wait_seconds)
        try:
            async with _renewing(self._extend, self.lease_seconds, self.keys[0]):
                yield self
        finally:
            await self.release()


# KEYS[1] semaphore zset; ARGV: old token, new token, lease_ms. The slot goes from one holder to
# the next without ever being free: 1, or 0 when the old lease had run out (nothing to pass on).
_SEM_PASS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
"""
MAX_PASSES = 3  # local hand-overs in a row; then a slot goes back through Redis


class _SlotWaiters:
    """This process's waiters for the slots of one cap, in arrival order (one per event loop).

    A holder that lets go while one of them waits hands its slot straight to it (`_SEM_PASS`: one
    EVAL, where a release, the waiter's BLPOP and its acquire took three round trips through a
    busy event loop). At most MAX_PASSES in a row: then the slot is released in Redis, where the
    waiters of other processes (sync reads share the cap) compete for it. One poller task waits
    in Redis for everyone here, so N local waiters cost one BLPOP, not N.
    """

    def __init__(self, cap: RedisSemaphore) -> None:
        self.cap = cap
        self.queue: collections.deque[asyncio.Future[str]] = collections.deque()
        self.passes = 0
        self.poller: asyncio.Task[None] | None = None
        self.handing: set[asyncio.Task[None]] = set()

    def _next(self) -> asyncio.Future[str] | None:
        while self.queue:
            waiter = self.queue.popleft()
            if not waiter.done():  # not timed out or cancelled
                return waiter
        return None

    async def acquire(self) -> str:
        token = _token()
        if not self.queue and await self.cap.try_acquire(token):  # never ahead of our own waiters
            return token
        started = time.monotonic()
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.queue.append(waiter)
        self._ensure_poller()
        try:
            async with asyncio.timeout(self.cap.wait_timeout):
                return await waiter
        except BaseException as exc:
            with contextlib.suppress(ValueError):
                self.queue.remove(waiter)
            if waiter.done() and not waiter.cancelled():  # handed a slot just as we gave up
                self._hand_on(waiter.result())
            if isinstance(exc, TimeoutError):
                waited = time.monotonic() - started
                raise LockTimeout(f"No free slot of {self.cap.key} after {waited:.1f}s",
                                  semaphore=self.cap.key) from None
            raise

    async def _poll(self) -> None:
        """Take slots in Redis for the waiters here, one at a time, while any are waiting."""
        cap = self.cap
        while self.queue:
            token = _token()
            try:
                acquired = await cap.try_acquire(token)
            except Exception:  # a Redis blip: the waiters' own timeouts bound the wait
                log.warning("gate.slot_poll_failed", extra={"semaphore": cap.key}, exc_info=True)
                await asyncio.sleep(max(cap.poll_seconds, 0.01))
                continue
            if acquired:
                if (waiter := self._next()) is not None:
                    waiter.set_result(token)
                else:
                    await self._release(token)
                continue
            with contextlib.suppress(Exception):
                await _wait_wake(cap.redis, [cap.key], max(cap.poll_seconds, 0.01) * 2.5)

    async def release(self, token: str) -> None:
        """Hand the slot to the next local waiter, or give it back in Redis with a wake-up."""
        if self.passes < MAX_PASSES and (waiter := self._next()) is not None:
            new = _token()
            try:
                passed = await self.cap.redis.eval(  # type: ignore[misc]
                    _SEM_PASS, 1, self.cap.key, token, new, str(int(self.cap.lease_seconds * 1000)))
            except Exception:  # Redis gone: our lease expires on its own; the poller serves it
                passed = 0
            if not passed:
                self.queue.appendleft(waiter)
                self._ensure_poller()
                return
            self.passes += 1
            if not waiter.done():
                waiter.set_result(new)
            else:  # it gave up while the slot was on its way
                await self.release(new)
            return
        self.passes = 0
        await self._release(token)

    async def _release(self, token: str) -> None:
        with contextlib.suppress(Exception):  # Redis gone: the lease expires on its own
            await self.cap.redis.eval(_SEM_RELEASE, 1, self.cap.key, token, str(self.cap.limit))  # type: ignore[misc]

    def _ensure_poller(self) -> None:
        if self.queue and (self.poller is None or self.poller.done()):
            self.poller = asyncio.create_task(self._poll())

    def _hand_on(self, token: str) -> None:
        """A slot that reached a waiter that gave up: on to the next one (or back to Redis)."""
        task = asyncio.get_running_loop().create_task(self.release(token))
        self.handing.add(task)
        task.add_done_callback(self.handing.discard)


_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _SlotWaiters]] = (
    weakref.WeakKeyDictionary()
)


def _slot_waiters(cap: RedisSemaphore) -> _SlotWaiters:
    caps = _SLOTS.setdefault(asyncio.get_running_loop(), {})
    waiters = caps.get(cap.key)
    if waiters is None or waiters.cap.redis is not cap.redis:
        waiters = caps[cap.key] = _SlotWaiters(cap)
    return waiters


@contextlib.asynccontextmanager
async def slot(cap: RedisSemaphore) -> AsyncIterator[str]:
    """One slot of `cap`, taken as soon as one is free, handed on or given back with a wake-up."""
    waiters = _slot_waiters(cap)
    token = await waiters.acquire()
    try:
        async with _renewing(lambda: cap.renew(token), cap.lease_seconds, cap.key):
            yield token
    finally:
        await waiters.release(token)

"""Redis-backed coordination that holds across processes: leased locks and a counting semaphore.

Both primitives use leases rather than "until released", because a worker that dies (OOM kill,
node loss) never releases anything: its lock or slot must come back on its own. A holder renews
its lease in the background while it is alive, so a lease can be short (seconds) without a long
SAP call losing it half-way.

Time comes from the Redis server (`TIME` inside the scripts), never from the callers' clocks, so
processes on hosts with skewed clocks still agree on which leases have expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from opentelemetry import trace
from redis.asyncio import Redis

from app.errors import ServiceUnavailable

tracer = trace.get_tracer(__name__)
logger = logging.getLogger(__name__)


class LockTimeout(ServiceUnavailable):
    """The lock or slot was not obtained in time. Retryable: the holder will finish or expire."""

    code = "lock-timeout"
    title = "Timed out waiting for a lock"
    retryable: ClassVar[bool] = True


# KEYS[1] lock key; ARGV[1] token. Only the holder's token may delete or extend the lock, so a
# holder whose lease already expired cannot release a lock that someone else now holds.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# KEYS[1] zset of holder tokens scored by lease expiry (ms, server clock).
# ARGV: token, limit, lease_ms. Expired holders are dropped first: that is how a dead process's
# slot comes back.
_SEM_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return 1
end
return 0
"""
# ARGV: token, lease_ms. A lease that already ran out is never revived: its slot may have been
# counted as free (and handed to someone else) by another acquire.
_SEM_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
"""


def _token() -> str:
    return secrets.token_hex(16)


def _backoff(attempt: int, base: float, cap: float) -> float:
    """Full jitter: waiters spread out instead of hammering Redis in lock-step."""
    return random.uniform(0, min(cap, base * (2 ** min(attempt, 10))))


class _Renewer:
    """Renews a lease every third of its length until stopped; logs (not raises) when it is lost."""

    def __init__(self, renew: Any, lease_seconds: float, what: str) -> None:
        self._renew = renew
        self._interval = lease_seconds / 3
        self._what = what
        self._task: asyncio.Task[None] | None = None
        self.lost = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                if not await self._renew():
                    self.lost = True
                    logger.warning("locker.lease_lost", extra={"lease": self._what})
                    return
            except Exception:  # a Redis blip: keep trying until the lease really runs out
                logger.warning("locker.renew_failed", extra={"lease": self._what}, exc_info=True)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class RedisLock:
    """A mutual-exclusion lock on one key with a lease, token-checked release and auto-renewal.

    `async with RedisLock(redis, key): ...` waits up to `wait_timeout` seconds (None = forever)
    and raises `LockTimeout` otherwise.
    """

    def __init__(self, redis: Redis, key: str, *, lease_seconds: float = 30.0,
                 wait_timeout: float | None = 60.0, renew: bool = True) -> None:
        self.redis = redis
        self.key = key
        self.lease_seconds = lease_seconds
        self.wait_timeout = wait_timeout
        self.token = _token()
        self._renewer: _Renewer | None = None
        self._auto_renew = renew

    async def try_acquire(self) -> bool:
        ok = await self.redis.set(self.key, self.token, nx=True, px=int(self.lease_seconds * 1000))
        return bool(ok)

    async def acquire(self) -> None:
        with tracer.start_as_current_span("lock.wait", attributes={"lock.key": self.key}) as span:
            started = time.monotonic()
            attempt = 0
            while not await self.try_acquire():
                waited = time.monotonic() - started
                if self.wait_timeout is not None and waited >= self.wait_timeout:
                    span.set_attribute("lock.acquired", False)
                    raise LockTimeout(f"Lock {self.key} still held after {waited:.1f}s", lock=self.key)
                await asyncio.sleep(_backoff(attempt, 0.005, 0.25))
                attempt += 1
            span.set_attribute("lock.acquired", True)
            span.set_attribute("lock.wait_seconds", time.monotonic() - started)
        if self._auto_renew:
            self._renewer = _Renewer(self.extend, self.lease_seconds, self.key)
            self._renewer.start()

    async def extend(self) -> bool:
        ms = int(self.lease_seconds * 1000)
        return bool(await self.redis.eval(_EXTEND, 1, self.key, self.token, str(ms)))  # type: ignore[misc]

    async def release(self) -> bool:
        if self._renewer is not None:
            await self._renewer.stop()
            self._renewer = None
        return bool(await self.redis.eval(_RELEASE, 1, self.key, self.token))  # type: ignore[misc]

    async def locked(self) -> bool:
        return bool(await self.redis.exists(self.key))

    async def __aenter__(self) -> RedisLock:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


class RedisSemaphore:
    """A counting semaphore shared by every process on the same Redis key.

    Holders are tokens in a sorted set scored by lease expiry; an acquire first drops expired
    holders, so a crashed worker's slot frees itself after `lease_seconds`.
    """

    def __init__(self, redis: Redis, key: str, limit: int, *, lease_seconds: float = 30.0,
                 wait_timeout: float | None = 120.0, poll_seconds: float = 0.02) -> None:
        if limit < 1:
            raise ValueError("a semaphore needs at least one slot")
        self.redis = redis
        self.key = key
        self.limit = limit
        self.lease_seconds = lease_seconds
        self.wait_timeout = wait_timeout
        self.poll_seconds = poll_seconds

    @property
    def _lease_ms(self) -> int:
        return int(self.lease_seconds * 1000)

    async def try_acquire(self, token: str) -> bool:
        result = await self.redis.eval(  # type: ignore[misc]
            _SEM_ACQUIRE, 1, self.key, token, str(self.limit), str(self._lease_ms))
        return bool(result)

    async def acquire(self, token: str | None = None, *, wait_timeout: float | None = -1.0) -> str:
        """Wait for a slot and return the holder token. `wait_timeout=-1` means the default."""
        token = token or _token()
        timeout = self.wait_timeout if wait_timeout == -1.0 else wait_timeout
        with tracer.start_as_current_span("semaphore.wait", attributes={
                "semaphore.key": self.key, "semaphore.limit": self.limit}) as span:
            started = time.monotonic()
            attempt = 0
            while not await self.try_acquire(token):
                waited = time.monotonic() - started
                if timeout is not None and waited >= timeout:
                    span.set_attribute("semaphore.acquired", False)
                    raise LockTimeout(f"No free slot of {self.key} after {waited:.1f}s",
                                      semaphore=self.key)
                await asyncio.sleep(self.poll_seconds + _backoff(attempt, self.poll_seconds, 0.2))
                attempt += 1
            span.set_attribute("semaphore.acquired", True)
            span.set_attribute("semaphore.wait_seconds", time.monotonic() - started)
        return token

    async def renew(self, token: str) -> bool:
        result = await self.redis.eval(_SEM_RENEW, 1, self.key, token, str(self._lease_ms))  # type: ignore[misc]
        return bool(result)

    async def release(self, token: str) -> None:
        await self.redis.zrem(self.key, token)

    async def holders(self) -> int:
        """Live holders right now (expired leases not counted)."""
        now_s, now_us = await self.redis.time()
        now_ms = now_s * 1000 + now_us // 1000
        return int(await self.redis.zcount(self.key, f"({now_ms}", "+inf"))

    @contextlib.asynccontextmanager
    async def slot(self, *, wait_timeout: float | None = -1.0) -> AsyncIterator[str]:
        token = await self.acquire(wait_timeout=wait_timeout)
        renewer = _Renewer(lambda: self.renew(token), self.lease_seconds, self.key)
        renewer.start()
        try:
            yield token
        finally:
            await renewer.stop()
            with contextlib.suppress(Exception):  # Redis gone: the lease expires on its own
                await self.release(token)

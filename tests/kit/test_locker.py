"""The Redis lock and semaphore against a real Redis server."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from app.kit.locker import LockTimeout, RedisLock, RedisSemaphore


async def test_lock_excludes_a_second_holder(redis: Redis, rkey: str) -> None:
    async with RedisLock(redis, rkey):
        with pytest.raises(LockTimeout):
            await RedisLock(redis, rkey, wait_timeout=0.1).acquire()
    async with RedisLock(redis, rkey, wait_timeout=0.1):
        pass


async def test_lock_of_a_dead_holder_expires(redis: Redis, rkey: str) -> None:
    dead = RedisLock(redis, rkey, lease_seconds=0.2, renew=False)
    await dead.acquire()  # never released: the process "died"
    async with RedisLock(redis, rkey, wait_timeout=2) as lock:
        assert await lock.locked()


async def test_release_by_a_former_holder_does_not_free_the_new_holder(redis: Redis, rkey: str) -> None:
    old = RedisLock(redis, rkey, lease_seconds=0.1, renew=False)
    await old.acquire()
    await asyncio.sleep(0.2)
    async with RedisLock(redis, rkey, wait_timeout=0.5):
        assert await old.release() is False
        assert await redis.exists(rkey)


async def test_lock_is_renewed_while_held(redis: Redis, rkey: str) -> None:
    async with RedisLock(redis, rkey, lease_seconds=0.3):
        await asyncio.sleep(0.8)
        with pytest.raises(LockTimeout):
            await RedisLock(redis, rkey, wait_timeout=0.05).acquire()


async def test_lock_gives_mutual_exclusion_to_concurrent_tasks(redis: Redis, rkey: str) -> None:
    inside = 0
    peak = 0

    async def worker() -> None:
        nonlocal inside, peak
        async with RedisLock(redis, rkey, wait_timeout=20):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.005)
            inside -= 1

    await asyncio.gather(*(worker() for _ in range(20)))
    assert peak == 1


async def test_semaphore_cap_is_never_exceeded_under_50_tasks(redis: Redis, rkey: str) -> None:
    semaphore = RedisSemaphore(redis, rkey, limit=4, poll_seconds=0.005)
    inside = 0
    peak = 0

    async def worker() -> None:
        nonlocal inside, peak
        async with semaphore.slot():
            inside += 1
            peak = max(peak, inside)
            assert await semaphore.holders() <= 4
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(worker() for _ in range(50)))
    assert peak == 4
    assert await semaphore.holders() == 0


async def test_semaphore_cap_holds_across_independent_instances(redis: Redis, rkey: str) -> None:
    """Two 'processes' (separate instances and connections) share the one cap."""
    a, b = RedisSemaphore(redis, rkey, limit=1), RedisSemaphore(redis, rkey, limit=1)
    async with a.slot():
        with pytest.raises(LockTimeout):
            await b.acquire(wait_timeout=0.1)


async def test_semaphore_slot_of_a_dead_holder_expires(redis: Redis, rkey: str) -> None:
    semaphore = RedisSemaphore(redis, rkey, limit=1, lease_seconds=0.2)
    await semaphore.acquire()  # held by a "process" that dies without releasing or renewing
    with pytest.raises(LockTimeout):
        await semaphore.acquire(wait_timeout=0.05)
    async with semaphore.slot(wait_timeout=2):
        assert await semaphore.holders() == 1


async def test_semaphore_slot_is_renewed_while_held(redis: Redis, rkey: str) -> None:
    semaphore = RedisSemaphore(redis, rkey, limit=1, lease_seconds=0.3)
    async with semaphore.slot():
        await asyncio.sleep(0.8)
        with pytest.raises(LockTimeout):
            await semaphore.acquire(wait_timeout=0.05)


async def test_an_expired_slot_is_not_resurrected_by_renewal(redis: Redis, rkey: str) -> None:
    semaphore = RedisSemaphore(redis, rkey, limit=1, lease_seconds=0.1)
    token = await semaphore.acquire()
    await asyncio.sleep(0.2)
    other = await semaphore.acquire(wait_timeout=1)
    assert await semaphore.renew(token) is False
    assert await semaphore.holders() == 1
    await semaphore.release(other)


async def test_an_expired_slot_cannot_be_renewed_even_before_anyone_reclaims_it(
        redis: Redis, rkey: str) -> None:
    semaphore = RedisSemaphore(redis, rkey, limit=1, lease_seconds=0.1)
    token = await semaphore.acquire()
    await asyncio.sleep(0.2)
    assert await semaphore.renew(token) is False
    assert await semaphore.holders() == 0

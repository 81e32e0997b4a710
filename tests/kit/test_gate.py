"""All-or-none multi-key locks and promptly woken slots, against real Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from app.kit import gate
from app.kit.locker import LockTimeout, RedisLock, RedisSemaphore


async def test_locks_hold_every_key_and_release_them(redis: Redis, rkey: str) -> None:
    keys = [f"{rkey}:sku:C", f"{rkey}:sku:A", f"{rkey}:sku:B", f"{rkey}:sku:A"]
    locks = gate.Locks(redis, keys, lease_seconds=30)
    async with locks.hold(wait_seconds=5):
        assert locks.held == sorted(set(keys))
        assert all([await redis.exists(k) for k in set(keys)])
    assert not any([await redis.exists(k) for k in set(keys)])


async def test_overlapping_sku_sets_never_deadlock(redis: Redis, rkey: str) -> None:
    done = 0

    async def document(skus: list[str]) -> None:
        nonlocal done
        async with gate.Locks(redis, [f"{rkey}:{s}" for s in skus], lease_seconds=30).hold(wait_seconds=20):
            await asyncio.sleep(0.002)
            done += 1

    docs = [["A", "B", "C"], ["C", "B", "A"], ["B", "A"], ["C", "A"]] * 5
    await asyncio.wait_for(asyncio.gather(*(document(d) for d in docs)), timeout=30)
    assert done == len(docs)


async def test_a_document_that_cannot_have_every_key_holds_none(redis: Redis, rkey: str) -> None:
    async with RedisLock(redis, f"{rkey}:B"):
        with pytest.raises(LockTimeout):
            await gate.Locks(redis, [f"{rkey}:B", f"{rkey}:A"], lease_seconds=30).acquire(wait_seconds=0.1)
        assert not await redis.exists(f"{rkey}:A")


async def test_a_released_key_wakes_the_waiter_and_the_rest_stay_held(redis: Redis, rkey: str) -> None:
    first = gate.Locks(redis, [f"{rkey}:A", f"{rkey}:B"], lease_seconds=30)
    await first.acquire(wait_seconds=1)
    waiter = asyncio.create_task(gate.Locks(redis, [f"{rkey}:A"], lease_seconds=30).acquire(wait_seconds=5))
    await asyncio.sleep(0.05)
    await first.release([f"{rkey}:A"])
    await asyncio.wait_for(waiter, timeout=2)
    assert first.held == [f"{rkey}:B"] and await redis.exists(f"{rkey}:B")
    await first.release()


async def test_slots_never_exceed_the_cap(redis: Redis, rkey: str) -> None:
    cap = RedisSemaphore(redis, rkey, limit=3, poll_seconds=0.005)
    inside = peak = 0

    async def worker() -> None:
        nonlocal inside, peak
        async with gate.slot(cap):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.005)
            inside -= 1

    await asyncio.gather(*(worker() for _ in range(30)))
    assert peak <= 3


async def _calls(redis: Redis, command: str) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_documents_of_one_process_wait_for_each_other_without_redis(redis: Redis, rkey: str) -> None:
    """The waiter is handed its keys by the local release: no failed EVAL, no BLPOP."""
    first = gate.Locks(redis, [f"{rkey}:A", f"{rkey}:B"], lease_seconds=30)
    await first.acquire(wait_seconds=1)
    evals, blpops = await _calls(redis, "eval"), await _calls(redis, "blpop")
    second = gate.Locks(redis, [f"{rkey}:B", f"{rkey}:C"], lease_seconds=30)
    waiter = asyncio.create_task(second.acquire(wait_seconds=5))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    await first.release()
    await asyncio.wait_for(waiter, timeout=2)
    assert second.held == [f"{rkey}:B", f"{rkey}:C"] and await redis.exists(f"{rkey}:C")
    assert await _calls(redis, "blpop") == blpops
    assert await _calls(redis, "eval") - evals == 2  # the release and the waiter's one take
    await second.release()


async def test_a_local_waiter_that_times_out_or_is_cancelled_holds_nothing(redis: Redis, rkey: str) -> None:
    first = gate.Locks(redis, [f"{rkey}:A"], lease_seconds=30)
    await first.acquire(wait_seconds=1)
    with pytest.raises(LockTimeout):
        await gate.Locks(redis, [f"{rkey}:A", f"{rkey}:B"], lease_seconds=30).acquire(wait_seconds=0.05)
    waiting = gate.Locks(redis, [f"{rkey}:A", f"{rkey}:C"], lease_seconds=30)
    cancelled = asyncio.create_task(waiting.acquire(wait_seconds=5))
    await asyncio.sleep(0.02)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await first.release()
    # Nothing is left held locally or in Redis: every key can be taken at once.
    everything = gate.Locks(redis, [f"{rkey}:{k}" for k in "ABC"], lease_seconds=30)
    await everything.acquire(wait_seconds=0.05)
    await everything.release()


async def test_a_key_another_process_holds_is_waited_for_in_redis(redis: Redis, rkey: str) -> None:
    """Another process's holder is only visible in Redis: the wait there still works."""
    other = RedisLock(redis, f"{rkey}:A", lease_seconds=30)
    await other.acquire()
    waiter = asyncio.create_task(gate.Locks(redis, [f"{rkey}:A"], lease_seconds=30).acquire(wait_seconds=5))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await other.release()
    await asyncio.wait_for(waiter, timeout=2)


async def test_a_freed_slot_is_handed_to_a_local_waiter_in_one_eval(redis: Redis, rkey: str) -> None:
    # A long fallback poll: the poller's BLPOP must not time out and try again while we count.
    cap = RedisSemaphore(redis, rkey, limit=1, poll_seconds=0.5)
    holder = gate.slot(cap)
    await holder.__aenter__()
    waiter = asyncio.create_task(_hold_slot(cap, 0))
    await asyncio.sleep(0.05)  # it waits (its poller too, in BLPOP)
    evals, tries = await _calls(redis, "eval"), await _calls(redis, "zremrangebyscore")
    await holder.__aexit__(None, None, None)
    await asyncio.wait_for(waiter, timeout=2)
    assert await _calls(redis, "eval") - evals == 2  # the hand-over, and the waiter's own release
    assert await _calls(redis, "zremrangebyscore") == tries  # nobody had to acquire


async def _hold_slot(cap: RedisSemaphore, seconds: float) -> None:
    async with gate.slot(cap):
        await asyncio.sleep(seconds)


async def test_other_processes_get_slots_while_local_waiters_keep_coming(redis: Redis, rkey: str) -> None:
    """Local hand-overs are capped: every few releases a slot goes back through Redis, where a
    holder from another process (here: the kit's own semaphore, which gate knows nothing of)
    can take it, though this process always has waiters."""
    cap = RedisSemaphore(redis, rkey, limit=1, poll_seconds=0.005)
    stop = asyncio.Event()

    async def local() -> None:
        while not stop.is_set():
            await _hold_slot(cap, 0.002)

    locals_ = [asyncio.create_task(local()) for _ in range(6)]
    try:
        other = RedisSemaphore(redis, rkey, limit=1, poll_seconds=0.002)
        token = await other.acquire(wait_timeout=5)
        await other.release(token)
    finally:
        stop.set()
        await asyncio.gather(*locals_)


async def test_a_slot_waiter_that_times_out_holds_nothing(redis: Redis, rkey: str) -> None:
    cap = RedisSemaphore(redis, rkey, limit=1, poll_seconds=0.005, wait_timeout=0.05)
    holder = gate.slot(cap)
    await holder.__aenter__()
    with pytest.raises(LockTimeout):
        await _hold_slot(cap, 0)
    await holder.__aexit__(None, None, None)
    assert await cap.holders() == 0
    await asyncio.wait_for(_hold_slot(cap, 0), timeout=1)

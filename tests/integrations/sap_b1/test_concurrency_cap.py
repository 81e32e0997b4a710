"""Every in-flight Service Layer request holds a slot of the Redis semaphore."""

from __future__ import annotations

import asyncio

import httpx
from redis.asyncio import Redis

from app.kit.locker import RedisSemaphore

from .fakes import FakeSL


async def test_requests_never_exceed_the_shared_cap(redis: Redis, rkey: str) -> None:
    fake = FakeSL()
    inside = 0
    peak = 0

    async def slow_item(request: httpx.Request) -> httpx.Response:
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        return httpx.Response(200, json={"ItemCode": "A1"})

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("Items('A1')") and fake.session_of(request) in fake.valid_sessions:
            fake.requests.append(request)
            return await slow_item(request)
        return fake.handle(request)

    semaphore = RedisSemaphore(redis, rkey, limit=3, poll_seconds=0.002)
    # Two clients = two "processes" sharing one cap through Redis.
    clients = [fake.client(handler=handler, semaphore=semaphore) for _ in range(2)]
    await asyncio.gather(*(clients[i % 2].get("Items", "A1") for i in range(30)))
    for client in clients:
        await client.aclose()
    assert peak == 3
    assert await semaphore.holders() == 0

"""The arq worker class b1bridge runs (app.worker.settings.Worker), against real Redis."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from arq.worker import func
from redis.asyncio import Redis

from app.worker.settings import Worker, worker_settings


async def nap(ctx: dict[str, Any], n: int) -> int:
    await asyncio.sleep(0.01 * (n % 7 + 1))  # staggered: jobs finish one by one
    return n


def _burst_worker(runtime: Any, function: Any, name: str, max_jobs: int) -> Worker:
    """A worker that runs only `function`, polls fast, and returns once the queue is empty."""
    return Worker(**worker_settings(
        runtime.settings,
        burst=True,
        functions=[func(function, name=name)],
        cron_jobs=[],
        on_startup=None,
        on_shutdown=None,
        ctx={"runtime": runtime},
        max_jobs=max_jobs,
        poll_delay=0.005,
    ))


async def _watches(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_watch", {}).get("calls", 0))


async def test_a_worker_does_not_ask_redis_about_the_jobs_it_is_running(app: Any, clean: None) -> None:
    runtime = app.state.runtime
    for n in range(30):
        job_id, queue = f"tests:nap:{n}", runtime.queue_name
        await runtime.redis.enqueue_job("tests.nap", n, _job_id=job_id, _queue_name=queue)
    before = await _watches(runtime.redis)
    worker = _burst_worker(runtime, nap, "tests.nap", max_jobs=10)
    await worker.main()
    await worker.close()
    assert worker.jobs_complete == 30
    # One WATCH per job it starts. arq's own worker re-checked the jobs it was running each time a
    # slot freed (they stay at the head of the queue until they finish): 136 here.
    assert await _watches(runtime.redis) - before <= 40


async def mark(ctx: dict[str, Any], key: str, n: int) -> int:
    await ctx["redis"].rpush(key, n)
    await asyncio.sleep(0.01 * (n % 5 + 1))
    return n


async def test_two_workers_on_one_queue_run_each_job_once(app: Any, clean: None) -> None:
    """The pre-check skips what runs here or elsewhere; it must never start a job twice, or skip one."""
    runtime = app.state.runtime
    run_id, queue = uuid.uuid4().hex, runtime.queue_name
    ran, prefix = f"tests:ran:{run_id}", f"tests:mark:{run_id}"
    for n in range(40):
        await runtime.redis.enqueue_job("tests.mark", ran, n, _job_id=f"{prefix}:{n}", _queue_name=queue)
    workers = [_burst_worker(runtime, mark, "tests.mark", max_jobs=4) for _ in range(2)]
    try:
        await asyncio.gather(*(w.main() for w in workers))
    finally:
        for w in workers:
            await w.close()
        runs = sorted(int(n) for n in await runtime.redis.lrange(ran, 0, -1))
        await runtime.redis.delete(ran)
    assert runs == list(range(40))
    assert sum(w.jobs_complete for w in workers) == 40
    assert all(w.jobs_complete > 0 for w in workers)


async def test_start_up_leaves_what_it_built_out_of_later_collections(app: Any) -> None:
    """Start-up freezes what it built: a full collection in a busy worker walked every module,
    mapper and setting, a pause of ~100 ms for every job in flight."""
    import gc

    from app.worker.settings import shutdown, startup

    gc.unfreeze()
    ctx: dict[str, Any] = {"settings": app.state.runtime.settings}
    try:
        await startup(ctx)
        assert gc.get_freeze_count() > 10_000
    finally:
        await shutdown(ctx)
        gc.unfreeze()

"""arq WorkerSettings, assembled from every domain's `tasks.py`.

A tasks module exposes `FUNCTIONS` (arq functions built with `app.worker.jobs.job`) and may expose
`cron_jobs(settings) -> list[arq.cron.CronJob]` (schedules are settings, not constants).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from types import ModuleType
from typing import Any

from arq import worker as arq_worker
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from arq.cron import CronJob
from arq.worker import Function, func

from app.config import Settings, get_settings
from app.kit import redis as redis_kit
from app.kit import telemetry
from app.outbox import relay
from app.runtime import Runtime, freeze_start_up

TASK_MODULES = (
    "app.exceptions.tasks",
    "app.sync.tasks",
    "app.recommendations.tasks",
    "app.writeback.tasks",
    "app.webhooks.tasks",
    "app.feeds.tasks",
)


class Worker(arq_worker.Worker):
    """arq's worker, minus a cost that grew with the number of jobs in flight. Every poll re-reads
    the head of the queue, where running jobs stay until they finish, and arq paid three Redis
    round trips per such job (WATCH, EXISTS, ZSCORE) to learn it was running. Here the jobs this
    worker runs are skipped outright, and those other workers run are found with one pipelined
    EXISTS for the whole read; arq still claims each remaining job with its own WATCH."""

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        running = {job_id for job_id, task in self.tasks.items() if not task.done()}
        candidates = [j for j in job_ids if j.decode() not in running]
        if candidates:
            async with self.pool.pipeline(transaction=False) as pipe:
                for job_id in candidates:
                    pipe.exists(in_progress_key_prefix + job_id.decode())
                busy = await pipe.execute()
            candidates = [j for j, taken in zip(candidates, busy, strict=True) if not taken]
        await super().start_jobs(candidates)


def _modules() -> list[ModuleType]:
    found = []
    for name in TASK_MODULES:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if not exc.name or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
    return found


def functions() -> list[Function]:
    return [func(f, name=f.__name__) for module in _modules() for f in getattr(module, "FUNCTIONS", [])]


def cron_jobs(settings: Settings) -> list[CronJob]:
    jobs: list[CronJob] = []
    for module in _modules():
        if hasattr(module, "cron_jobs"):
            jobs.extend(module.cron_jobs(settings))
    return jobs


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    runtime = Runtime.build(settings)
    ctx["runtime"] = runtime
    ctx["relay"] = asyncio.create_task(
        relay.run_forever(runtime.sessionmaker, runtime.redis, queue_name=runtime.queue_name)
    )
    freeze_start_up()


async def shutdown(ctx: dict[str, Any]) -> None:
    task = ctx.pop("relay", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    runtime: Runtime | None = ctx.pop("runtime", None)
    if runtime is not None:
        await runtime.close()


def worker_settings(settings: Settings | None = None, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker` (used by `b1bridge worker` and by the tests)."""
    settings = settings or get_settings()
    telemetry.setup(settings)
    redis: RedisSettings = redis_kit.redis_settings(settings)
    values: dict[str, Any] = {
        "redis_settings": redis,
        "queue_name": redis_kit.queue_name(settings),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"settings": settings},
        "max_jobs": settings.worker_max_jobs,
        "poll_delay": settings.worker_poll_seconds,
        "job_timeout": 600,
        "keep_result": 3600,
        "max_tries": 25,
        "health_check_key": redis_kit.key(settings, "arq", "health"),
    }
    values.update(overrides)
    if "functions" not in values:
        values["functions"] = functions()
    if "cron_jobs" not in values:
        values["cron_jobs"] = cron_jobs(settings)
    return values

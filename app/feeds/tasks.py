"""Feed jobs: deliver the queue (after every sync, and every few minutes until it is empty) and
rebuild the Starter snapshots."""

from __future__ import annotations

from typing import Any

from arq.cron import CronJob, cron

from app.config import Settings
from app.feeds import service
from app.runtime import Runtime
from app.worker.jobs import job


@job(service.JOB_DELIVER)
async def deliver(runtime: Runtime) -> dict[str, int]:
    return await service.deliver_queued(runtime)


@job(service.JOB_STARTER)
async def build_starter(runtime: Runtime, run_id: str | None = None) -> dict[str, str]:
    return await service.build_starter(runtime, run_id=run_id)


async def _retry_deliveries(ctx: dict[str, Any]) -> dict[str, int]:
    return await service.deliver_queued(ctx["runtime"])


FUNCTIONS = [deliver, build_starter]


def cron_jobs(settings: Settings) -> list[CronJob]:
    # A file that could not be uploaded stays queued; this retries it (in order) until IP has it.
    return [
        cron(
            _retry_deliveries,
            name="feeds.retry_deliveries",
            minute=set(range(0, 60, 5)),
            run_at_startup=False,
            unique=True,
        )
    ]

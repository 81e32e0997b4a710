"""arq functions: ingest one IP PO (from a webhook hint or a poll) and the polling cron."""

from __future__ import annotations

import logging
from datetime import timedelta

from arq import Retry
from arq.cron import CronJob, cron

from app.config import Settings
from app.integrations.inventory_planner.errors import IPError, IPNotFound
from app.recommendations import poll, revalidate
from app.runtime import Runtime
from app.worker.jobs import job

log = logging.getLogger("b1bridge.recommendations")


@job("recommendations.ingest_po")
async def ingest_po(runtime: Runtime, po_id: str, delivery_id: str | None = None) -> str | None:
    try:
        return await poll.ingest_by_id(runtime, po_id)
    except IPNotFound:
        log.warning("recommendations.po_not_found", extra={"po_id": po_id, "delivery_id": delivery_id})
        return None
    except IPError as exc:
        if not exc.retryable:
            raise
        raise Retry(defer=timedelta(seconds=5)) from exc


@job("recommendations.poll")
async def poll_orders(runtime: Runtime) -> int:
    return await poll.poll_once(runtime)


@job(revalidate.JOB)
async def revalidate_blocked(runtime: Runtime, reason: str | None = None) -> dict[str, object]:
    try:
        return await revalidate.run(runtime)
    except IPError as exc:
        raise Retry(defer=timedelta(seconds=30)) from exc  # only retryable ones leave run()


FUNCTIONS = [ingest_po, poll_orders, revalidate_blocked]


def cron_jobs(settings: Settings) -> list[CronJob]:
    minutes = settings.writeback.poll_minutes
    if minutes <= 0:
        return []
    return [
        cron(
            poll_orders,  # type: ignore[arg-type]
            name="recommendations.poll",
            minute=set(range(0, 60, min(minutes, 60))),
            unique=True,
            run_at_startup=False,
            job_id="cron:recommendations.poll",
        ),
        # Blocked orders are re-checked on the same cadence: SAP may now know (or re-activate) an item.
        cron(
            revalidate_blocked,  # type: ignore[arg-type]
            name="recommendations.revalidate_blocked",
            minute={(m + 2) % 60 for m in range(0, 60, min(minutes, 60))},
            unique=True,
            run_at_startup=False,
            job_id="cron:recommendations.revalidate_blocked",
        ),
    ]

"""arq functions of the webhook intake: the daily purge of processed deliveries.

Intake itself needs no job of its own: it queues `recommendations.ingest_po` through the outbox.
"""

from __future__ import annotations

import logging

from arq.cron import CronJob, cron

from app.config import Settings
from app.db.session import session_scope
from app.kit.time import utcnow
from app.runtime import Runtime
from app.webhooks import service
from app.worker.jobs import job

log = logging.getLogger("b1bridge.webhooks")
PURGE_JOB = "webhooks.purge_deliveries"
BATCH = 1000


async def purge(runtime: Runtime, *, retention_days: int | None = None) -> int:
    """Delete processed deliveries older than the retention, one short transaction per batch."""
    days = runtime.settings.writeback.webhook_retention_days if retention_days is None else retention_days
    if days <= 0:
        return 0
    now, total = utcnow(), 0
    while True:
        async with session_scope(runtime.sessionmaker) as session:
            deleted = await service.purge_batch(session, retention_days=days, now=now, limit=BATCH)
        total += deleted
        if deleted < BATCH:
            break
    log.info("webhooks.purged", extra={"deleted": total, "retention_days": days})
    return total


@job(PURGE_JOB)
async def purge_deliveries(runtime: Runtime) -> int:
    return await purge(runtime)


FUNCTIONS = [purge_deliveries]


def cron_jobs(settings: Settings) -> list[CronJob]:
    if settings.writeback.webhook_retention_days <= 0:
        return []
    return [
        cron(
            purge_deliveries,  # type: ignore[arg-type]
            name=PURGE_JOB,
            hour={3},  # daily, away from IP's 02:00 nightly sync and the feeds that precede it
            minute={40},
            unique=True,
            run_at_startup=False,
            job_id="cron:" + PURGE_JOB,
        )
    ]

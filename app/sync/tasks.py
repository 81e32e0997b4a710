"""Sync jobs and schedules: incremental stock every N minutes, full nightly (files land before IP's
sync), reconcile against IP a few times a day, detectors between runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from arq import Retry
from arq.cron import CronJob, cron

from app.config import Settings
from app.db.session import session_scope
from app.kit.time import utcnow
from app.models.sync import RunMode, RunStatus, RunTrigger
from app.runtime import Runtime
from app.sync import monitor, receipts, reconcile, service
from app.worker.jobs import job


@job(service.JOB_STOCK)
async def sync_stock(runtime: Runtime, run_id: str | None = None, full: bool = False) -> dict[str, Any]:
    """Run a requested (run_id) or scheduled stock sync. Never raises on a SAP failure: the run is
    recorded as failed, the watermark stays, and the next scheduled run catches up."""
    outcome = await service.run_stock(
        runtime, run_id=run_id, full=full, trigger=RunTrigger.api if run_id else RunTrigger.schedule
    )
    if outcome is None:
        return {"skipped": "another stock run is active"}
    return {"run_id": outcome.run.id if outcome.run else None, "ok": outcome.ok, "error": outcome.error}


@job(service.JOB_FULL_REQUEST)
async def request_full(runtime: Runtime, reason: str | None = None) -> dict[str, Any]:
    """A full run requested after a mapping change. An active run that already read its mappings
    (running, or incremental) does not cover the change: try again once it is over."""
    async with session_scope(runtime.sessionmaker) as session:
        run, created = await service.request_run(
            session, full=True, trigger=RunTrigger.api, redis=runtime.redis, settings=runtime.settings
        )
        covered = created or (run.mode == RunMode.full and run.status == RunStatus.pending)
    if not covered:
        raise Retry(defer=timedelta(seconds=30))
    return {"run_id": run.id, "created": created, "reason": reason}


@job("sync.reconcile")
async def reconcile_job(runtime: Runtime) -> dict[str, Any]:
    return await reconcile.run(runtime)


@job("sync.detect")
async def detect_job(runtime: Runtime) -> dict[str, int]:
    async with session_scope(runtime.sessionmaker) as session:
        return await monitor.detect(session, runtime.settings)


@job(receipts.JOB)
async def receipts_job(runtime: Runtime) -> dict[str, Any]:
    """GRPO received quantities onto the IP POs b1bridge created (never raises on a failed run)."""
    return receipts.summary(await receipts.run(runtime))


FUNCTIONS = [sync_stock, reconcile_job, detect_job, receipts_job, request_full]


async def _incremental(ctx: dict[str, Any]) -> Any:
    return await sync_stock(ctx)


async def _full(ctx: dict[str, Any]) -> Any:
    return await sync_stock(ctx, full=True)


async def _reconcile(ctx: dict[str, Any]) -> Any:
    return await reconcile_job(ctx)


async def _detect(ctx: dict[str, Any]) -> Any:
    return await detect_job(ctx)


async def _receipts(ctx: dict[str, Any]) -> Any:
    return await receipts_job(ctx)


def full_run_utc(settings: Settings, today: datetime | None = None) -> tuple[int, int]:
    """SYNC_FULL_AT (account time) as a UTC hour and minute; arq's cron runs on UTC."""
    hour, minute = (int(p) for p in settings.sync.full_at.split(":", 1))
    day = (today or utcnow()).astimezone(ZoneInfo(settings.ip.account_timezone)).date()
    local = datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(settings.ip.account_timezone)
    )
    utc = local.astimezone(ZoneInfo("UTC"))
    return utc.hour, utc.minute


def _every(minutes: int, offset: int = 0) -> set[int]:
    step = max(1, min(minutes, 60))
    return {(m + offset) % 60 for m in range(0, 60, step)}


def cron_jobs(settings: Settings) -> list[CronJob]:
    s = settings.sync
    hour, minute = full_run_utc(settings)
    hours_reconcile = set(range(0, 24, max(1, s.reconcile_every_minutes // 60)))
    return [
        cron(
            _incremental,
            name="sync.stock.incremental",
            minute=_every(s.incremental_every_minutes),
            unique=True,
            run_at_startup=False,
            timeout=timedelta(hours=2),
        ),
        cron(
            _full,
            name="sync.stock.full",
            hour={hour},
            minute={minute},
            unique=True,
            timeout=timedelta(hours=3),
        ),
        cron(_reconcile, name="sync.reconcile.cron", hour=hours_reconcile, minute={37}, unique=True),
        cron(_detect, name="sync.detect.cron", minute=_every(s.detect_every_minutes, 7), unique=True),
        cron(_receipts, name="sync.receipts.cron", minute=_every(s.receipts_every_minutes, 4), unique=True),
    ]

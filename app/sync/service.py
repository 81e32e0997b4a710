"""Sync runs: request one (API, schedule, CLI), run it single-flight, record what happened.

One run per stream at a time across every worker: the `active_key` unique column refuses a second
*record*, the Redis lease lock refuses a second *execution* (and frees itself if a worker dies).
A run that fails leaves the watermark where it was, so the next run re-reads the same window.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db.session import session_scope
from app.feeds import service as feeds_service
from app.integrations import clients
from app.integrations.sap_b1.client import SapB1Client
from app.kit import redis as redis_kit
from app.kit.locker import LockTimeout, RedisLock
from app.kit.time import as_utc, utcnow
from app.models.sync import IpWarehouseState, RunMode, RunStatus, RunTrigger, SyncRun
from app.outbox import service as outbox
from app.runtime import Runtime
from app.sync import monitor, repository, rules, streams
from app.sync.engine import Counts, Plan, StockEngine, save_warehouses
from app.sync.sinks import Sinks

logger = logging.getLogger("b1bridge.sync")
STOCK = "stock"
JOB_STOCK = "sync.stock"
JOB_FULL_REQUEST = "sync.request_full"
PENDING_GRACE = timedelta(minutes=30)


def lock_key(settings: Settings, stream: str) -> str:
    return redis_kit.key(settings, "lock", "sync", stream)


def feed_dir(settings: Settings) -> Path:
    return settings.sync.feed_dir or settings.data_dir / "feeds"


# --- requesting a run -------------------------------------------------------------------------------


async def open_run(
    session: AsyncSession, *, full: bool, trigger: RunTrigger, redis: Any, settings: Settings
) -> tuple[SyncRun, bool]:
    """A new pending run, or (existing, False) when one is already pending or running."""
    mode = RunMode.full if full else RunMode.incremental
    for _ in range(2):
        run = SyncRun(stream=STOCK, trigger=trigger, mode=mode, status=RunStatus.pending, active_key=STOCK)
        if await repository.add_active_run(session, run):
            return run, True
        existing = await repository.active_run(session, STOCK)
        if existing is None:
            continue
        if not await _abandoned(existing, redis, settings):
            return existing, False
        _finish(existing, RunStatus.failed, error="abandoned: no worker holds its lock")
        await session.flush()
    raise RuntimeError("could not open a sync run")


async def _abandoned(run: SyncRun, redis: Any, settings: Settings) -> bool:
    """A running run always holds the lease; a pending one waits for a worker, within a grace."""
    if await RedisLock(redis, lock_key(settings, run.stream)).locked():
        return False
    if run.status == RunStatus.running:
        return True
    return utcnow() - as_utc(run.created_at) > PENDING_GRACE


async def request_run(
    session: AsyncSession, *, full: bool, trigger: RunTrigger, redis: Any, settings: Settings
) -> tuple[SyncRun, bool]:
    """What POST /sync/stock does: a run plus its outbox job, in the caller's transaction."""
    run, created = await open_run(session, full=full, trigger=trigger, redis=redis, settings=settings)
    if created:
        await outbox.enqueue(session, JOB_STOCK, job_id=f"sync:stock:{run.id}", run_id=run.id)
    return run, created


async def request_full_later(session: AsyncSession, *, reason: str) -> None:
    """For callers without Redis at hand (a mapping change inside a request): an outbox job that
    asks, from a worker, for a full run through `request_run`, as POST /sync/stock does. An
    incremental run keeps the routing it read at its start, so mapping changes need a full one."""
    await outbox.enqueue(
        session, JOB_FULL_REQUEST, job_id=f"sync:full-request:{uuid.uuid4().hex}", reason=reason
    )


def _finish(run: SyncRun, status: RunStatus, *, error: str | None = None) -> None:
    now = utcnow()
    run.status, run.finished_at, run.active_key = status, now, None
    started = as_utc(run.started_at) if run.started_at else as_utc(run.created_at)
    run.duration_ms = int((now - started).total_seconds() * 1000)
    if error:
        run.errors = [*run.errors, {"at": now.isoformat(), "error": error[:2000]}]


# --- running one ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    run: SyncRun | None
    counts: Counts
    sinks: Sinks
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def run_stock(
    runtime: Runtime,
    *,
    run_id: str | None = None,
    full: bool = False,
    trigger: RunTrigger = RunTrigger.schedule,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    total: Callable[[int | None], None] | None = None,
    detect: bool = True,
) -> Outcome | None:
    """Run one stock sync. None when another run is already active (nothing to do).

    `detect=False` leaves the detectors to their own scheduled job (the benchmark times the sync alone)."""
    if dry_run:
        return await _execute(runtime, None, full=full, dry_run=True, progress=progress, total=total)
    run = await _claim(runtime, run_id, full=full, trigger=trigger)
    if run is None:
        return None
    lock = RedisLock(
        runtime.redis,
        lock_key(runtime.settings, STOCK),
        lease_seconds=runtime.settings.sync.lock_lease_seconds,
        wait_timeout=0,
    )
    try:
        await lock.acquire()
    except LockTimeout:
        await _close(runtime, run.id, RunStatus.failed, error="another worker holds the stock lock")
        return None
    try:
        return await _execute(
            runtime,
            run,
            full=run.mode == RunMode.full,
            dry_run=False,
            progress=progress,
            total=total,
            detect=detect,
        )
    finally:
        await lock.release()


async def _claim(runtime: Runtime, run_id: str | None, *, full: bool, trigger: RunTrigger) -> SyncRun | None:
    async with session_scope(runtime.sessionmaker) as session:
        if run_id is None:
            run, created = await open_run(
                session, full=full, trigger=trigger, redis=runtime.redis, settings=runtime.settings
            )
            if not created:
                logger.info("sync.stock.already_active", extra={"run_id": run.id})
                return None
        else:
            found = await repository.get_run(session, run_id)
            if found is None or found.status != RunStatus.pending:
                return None  # arq ran the job twice, or the run was closed as abandoned
            run = found
        run.status, run.started_at, run.heartbeat_at = RunStatus.running, utcnow(), utcnow()
        return run


async def _close(
    runtime: Runtime,
    run_id: str,
    status: RunStatus,
    *,
    error: str | None = None,
    counts: Counts | None = None,
    files: list[dict[str, Any]] | None = None,
) -> SyncRun:
    async with session_scope(runtime.sessionmaker) as session:
        run = await repository.get_run(session, run_id)
        assert run is not None
        if counts is not None:
            run.read_count, run.changed_count = counts.read, counts.changed
            run.sent_count, run.skipped_count = counts.sent, counts.skipped
        run.files = files or []
        _finish(run, status, error=error)
        return run


async def _execute(
    runtime: Runtime,
    run: SyncRun | None,
    *,
    full: bool,
    dry_run: bool,
    progress: Callable[[int], None] | None,
    total: Callable[[int | None], None] | None,
    detect: bool = True,
) -> Outcome:
    settings = runtime.settings
    sinks = Sinks(None if dry_run else feed_dir(settings) / "outgoing")
    counts = Counts()
    try:
        sap = clients.sap_reader(runtime)
        plan, since = await _plan(runtime, sap, run, full=full, dry_run=dry_run)
        if total is not None:
            total(await sap.count("Items") if since is None else None)
        engine = StockEngine(
            sap, runtime.sessionmaker, plan, sinks, page_size=settings.sync.page_size, progress=progress
        )
        counts = engine.counts
        await (engine.run_full() if since is None else engine.run_incremental(since))
        if dry_run:
            async with session_scope(runtime.sessionmaker) as session:
                engine.warehouse_rows(await repository.warehouse_states(session))
            return Outcome(None, counts, sinks)
        assert run is not None
        files = await _finalize(runtime, engine, run)
    except Exception as exc:
        sinks.discard()
        logger.exception("sync.stock.failed", extra={"run_id": run.id if run else None})
        closed = (
            await _close(
                runtime, run.id, RunStatus.failed, error=f"{type(exc).__name__}: {exc}", counts=counts
            )
            if run
            else None
        )
        if detect:
            await _after(runtime)
        return Outcome(closed, counts, sinks, error=f"{type(exc).__name__}: {exc}")
    closed = await _close(runtime, run.id, RunStatus.succeeded, counts=counts, files=files)
    if detect:
        await _after(runtime)
    return Outcome(closed, counts, sinks)


async def _plan(
    runtime: Runtime, sap: SapB1Client, run: SyncRun | None, *, full: bool, dry_run: bool
) -> tuple[Plan, Any]:
    """Warehouses, groups and mappings (small, read whole every run), and where to start reading."""
    from app.mappings import service as mapping_service

    settings, now = runtime.settings, utcnow()
    warehouses = await streams.warehouses(sap)
    await streams.item_groups(sap)  # proves the set is readable; groups map through the mappings
    async with session_scope(runtime.sessionmaker) as session:
        wh_map = await mapping_service.warehouse_map(session)
        group_map = await mapping_service.item_group_map(session)
        mark = await repository.watermark(session, STOCK)
        previous = await repository.previous_run(session, STOCK, run.id if run else None)
        if not dry_run:
            await save_warehouses(session, warehouses, now)
    routes = rules.resolve_routes([rules.Warehouse.from_sap(w) for w in warehouses], wh_map)
    held = {
        r.ip_warehouse_id
        for r in routes.values()
        if r.exclusion == rules.MAPPING_CONFLICT and r.ip_warehouse_id
    }
    mode = RunMode.full if full or mark is None else RunMode.incremental
    plan = Plan(
        run.id if run else "dry-run",
        mode,
        now,
        routes,
        dict(group_map),
        settings.sync.unmapped_category,
        settings.sync.sap_timezone,
        settings.ip.feed_mode in ("advanced", "both"),
        dry_run,
        held,
        trust_digests=previous is not None and previous.status == RunStatus.succeeded,
    )
    if run is not None:
        await _start_window(runtime, run.id, mode, mark, now)
    if mode == RunMode.full:
        return plan, None
    assert mark is not None
    day, minute = rules.since(mark, settings.sync.overlap_seconds, settings.sync.sap_timezone)
    return plan, streams.changed_since(day, minute)


async def _start_window(
    runtime: Runtime, run_id: str, mode: RunMode, mark: datetime | None, now: datetime
) -> None:
    async with session_scope(runtime.sessionmaker) as session:
        run = await repository.get_run(session, run_id)
        assert run is not None
        run.mode, run.watermark_from, run.watermark_to = mode, mark, now


async def _finalize(runtime: Runtime, engine: StockEngine, run: SyncRun) -> list[dict[str, Any]]:
    """Files finished and validated, queued in the delivery log, and only then marked as sent."""
    plan = engine.plan
    async with session_scope(runtime.sessionmaker) as session:
        states = engine.warehouse_rows(await repository.warehouse_states(session))
    files = engine.sinks.finish()
    async with session_scope(runtime.sessionmaker) as session:
        deliveries = await feeds_service.queue_files(session, files, run_id=run.id, now=plan.now)
        names = {d.entity: d.file_name for d in deliveries}
        await repository.promote_pending(session, run.id, plan.now, names)
        await repository.upsert(session, IpWarehouseState, states, ["ip_warehouse_id"])
        await repository.set_watermark(session, STOCK, plan.now, utcnow())
        if deliveries:
            await feeds_service.request_delivery(session, run.id)
        if runtime.settings.ip.feed_mode in ("starter", "both"):
            await feeds_service.request_starter_build(session, run.id)
    return [{"entity": d.entity, "file": d.file_name, "rows": d.rows} for d in deliveries]


async def _after(runtime: Runtime) -> None:
    """Detectors run after every sync, failed or not (a failure is how SYNC_LAG starts)."""
    try:
        async with session_scope(runtime.sessionmaker) as session:
            await monitor.detect(session, runtime.settings)
    except Exception:
        logger.exception("sync.detectors_failed")

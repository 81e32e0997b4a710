"""Moves committed outbox rows to arq, in order, with their deterministic job ids.

Runs in every worker and (by default) in the API process; several relays at once are safe: arq
refuses a second job with the same id, and a row is marked only after its enqueue succeeded.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.session import session_scope
from app.kit.time import utcnow
from app.models.outbox import OutboxMessage
from app.outbox import repository

log = logging.getLogger("b1bridge.outbox")


async def relay_once(
    factory: async_sessionmaker[AsyncSession], redis: ArqRedis, *, queue_name: str, batch: int = 100
) -> int:
    """Enqueue up to `batch` pending rows; returns how many were handed to arq."""
    async with session_scope(factory) as session:
        rows = await repository.pending(session, limit=batch)
        moved = 0
        for row in rows:
            try:
                await _enqueue(redis, row, queue_name)
            except Exception as exc:  # Redis down: keep the row, try again on the next tick
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("outbox.enqueue_failed", extra={"job_id": row.job_id, "error": row.last_error})
                break
            row.enqueued_at = utcnow()
            moved += 1
        return moved


async def _enqueue(redis: ArqRedis, row: OutboxMessage, queue_name: str) -> None:
    defer = timedelta(seconds=row.defer_seconds) if row.defer_seconds else None
    args = dict(row.args)
    if row.request_id:
        args.setdefault("request_id", row.request_id)
    # A None result means arq already holds a job with this id: that is the "exactly once" we want.
    await redis.enqueue_job(row.job_name, _job_id=row.job_id, _queue_name=queue_name, _defer_by=defer, **args)


async def run_forever(
    factory: async_sessionmaker[AsyncSession], redis: ArqRedis, *, queue_name: str, interval: float = 0.5
) -> None:
    while True:
        try:
            moved = await relay_once(factory, redis, queue_name=queue_name)
        except Exception:  # the database may be briefly unavailable; the relay must outlive it
            log.exception("outbox.relay_failed")
            moved = 0
        if not moved:
            await asyncio.sleep(interval)

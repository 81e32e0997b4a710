"""Write a job into the outbox in the caller's transaction (never enqueue from a request)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.kit.context import current_request_id
from app.models.outbox import OutboxMessage
from app.outbox import repository


async def enqueue(
    session: AsyncSession, job_name: str, *, job_id: str, defer_seconds: float = 0.0, **args: Any
) -> OutboxMessage:
    """Queue `job_name(**args)` to run once the caller's transaction commits.

    `job_id` is deterministic (e.g. `writeback:{id}`): arq will not run two jobs with the same id
    at once, and the outbox refuses a second row with it, so enqueueing twice is harmless.
    """
    existing = await repository.by_job_id(session, job_id)
    if existing is not None:
        return existing
    message = OutboxMessage(
        job_name=job_name,
        job_id=job_id,
        args=args,
        defer_seconds=defer_seconds,
        request_id=current_request_id(),
    )
    return await repository.add(session, message)

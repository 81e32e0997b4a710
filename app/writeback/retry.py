"""Retry handlers for POST /exceptions/{id}/retry: POST_FAILED, SAP_BUSY and LOCKED_PERIOD re-queue
the failed write, optionally corrected: {"lines": [{"line_no": 1, "warehouse_code": "02",
"quantity": 5}], "doc_date": "2025-07-01", "policy": "post_in_open_period"}."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit import service as audit
from app.errors import Conflict, Unprocessable
from app.exceptions import service as exceptions
from app.models.writeback import WriteStatus
from app.writeback import repository, service, sources

ALLOWED = {"lines", "doc_date", "policy"}
RETRYABLE = (WriteStatus.failed, WriteStatus.held, WriteStatus.queued)


def _check(corrections: dict[str, Any]) -> dict[str, Any]:
    unknown = set(corrections) - ALLOWED
    if unknown:
        raise Unprocessable(
            f"Unknown corrections: {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(ALLOWED))}."
        )
    for line in corrections.get("lines", []):
        if not isinstance(line, dict) or "line_no" not in line:
            raise Unprocessable("Each line correction needs its line_no.")
    return corrections


async def retry_write(
    session: AsyncSession, exception: Any, corrections: dict[str, Any], principal: Any
) -> dict[str, Any]:
    write_id = (exception.related or {}).get("write_id")
    write = await repository.get_write(session, write_id) if write_id else None
    if write is None:
        raise Conflict("The exception names no write-back job to retry.")
    if write.status not in RETRYABLE:
        raise Conflict(f"The write is {write.status}; only failed or held writes are retried.")
    await service.requeue(session, write, _check(corrections or {}))
    await sources.refresh(session, write.source_type, write.source_id)
    await audit.record(
        session,
        actor=principal.actor,
        action="writeback.retried",
        entity_type="sap_write",
        entity_id=write.id,
        after={"corrections": corrections, "generation": write.generation},
    )
    return {"write_id": write.id, "status": str(write.status), "generation": write.generation}


for _kind in ("POST_FAILED", "SAP_BUSY", "LOCKED_PERIOD"):
    exceptions.register_retry_handler(_kind, retry_write)

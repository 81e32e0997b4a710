"""Re-validate blocked recommendations: a mapping was fixed, or SAP now knows (or re-activated)
an item, so an order blocked on UNMAPPED_* / SKU_MISMATCH / INACTIVE_ITEM may now pass.

Each blocked order is re-read from IP and its items from SAP (no item cache: the question is
whether SAP changed), then goes through the same ingest as a webhook or a poll: same content
re-validates the blocked version, whose exceptions clear when they pass; changed content becomes
a new version. Requested by the mapping service after a vendor or warehouse change (outbox) and
run on the polling schedule, so an item created in SAP unblocks without anyone touching IP.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.session import session_scope
from app.integrations.inventory_planner.errors import IPError, IPNotFound
from app.models.recommendation import RecommendationStatus
from app.outbox import service as outbox
from app.recommendations import ingest, poll, repository
from app.runtime import Runtime

log = logging.getLogger("b1bridge.recommendations.revalidate")
JOB = "recommendations.revalidate_blocked"
BATCH = 500


async def request(session: AsyncSession, *, reason: str) -> None:
    """Queue a pass in the caller's transaction. Every request gets its own job: one that already
    ran must not swallow a later change (a pass over nothing blocked costs one query)."""
    await outbox.enqueue(session, JOB, job_id=f"revalidate:{uuid.uuid4().hex}", reason=reason)


async def run(runtime: Runtime) -> dict[str, Any]:
    async with session_scope(runtime.sessionmaker) as session:
        ids = await repository.ids_with_status(session, RecommendationStatus.blocked, BATCH)
        po_ids = sorted({rec.ip_po_id for rec in [await repository.get(session, i) for i in ids] if rec})
    done: dict[str, Any] = {"blocked": len(po_ids), "revalidated": 0, "gone": 0}
    for po_id in po_ids:
        try:
            await poll.ingest_po(runtime, await ingest.fetch_po(runtime, po_id), fresh=True)
            done["revalidated"] += 1
        except IPNotFound:
            done["gone"] += 1
        except IPError as exc:
            if exc.retryable:
                raise
            log.warning("recommendations.revalidate_failed", extra={"ip_po_id": po_id, "error": str(exc)})
    log.info("recommendations.revalidated", extra=done)
    return done

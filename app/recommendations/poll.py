"""The polling fallback over IP purchase orders by `last_modified`, so a lost webhook loses nothing.

The watermark is rewound by `WRITEBACK_POLL_OVERLAP_SECONDS` on every pass: IP's clock and
ordering are not ours, and re-reading a PO is harmless (same content = same version).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from app.db.session import session_scope
from app.exceptions import service as exceptions
from app.integrations.inventory_planner.schemas import IPPurchaseOrder
from app.kit import redis as redis_kit
from app.kit.locker import RedisLock
from app.kit.time import as_utc, utcnow
from app.recommendations import ingest, repository, service
from app.runtime import Runtime
from app.writeback import clients

log = logging.getLogger("b1bridge.recommendations")
STREAM = "ip_purchase_orders"


async def ingest_po(runtime: Runtime, po: IPPurchaseOrder, *, fresh: bool = False) -> str | None:
    """One PO at a time per id (webhook job and poll may race): versions are numbered in order."""
    items = await ingest.items_for(runtime, po, fresh=fresh)
    key = redis_kit.key(runtime.settings, "lock", "ip-po", po.id)
    async with RedisLock(runtime.redis, key, wait_timeout=60), session_scope(runtime.sessionmaker) as session:
        rec = await service.ingest(session, runtime.settings, po, items)
        return rec.id if rec else None


async def ingest_by_id(runtime: Runtime, po_id: str) -> str | None:
    return await ingest_po(runtime, await ingest.fetch_po(runtime, po_id))


async def _since(runtime: Runtime) -> datetime | None:
    async with session_scope(runtime.sessionmaker) as session:
        state = await repository.poll_state(session, STREAM)
        overlap = timedelta(seconds=runtime.settings.writeback.poll_overlap_seconds)
        return as_utc(state.watermark) - overlap if state.watermark else None


async def _save(runtime: Runtime, newest: datetime | None, count: int) -> None:
    async with session_scope(runtime.sessionmaker) as session:
        state = await repository.poll_state(session, STREAM)
        if newest is not None and (state.watermark is None or newest > as_utc(state.watermark)):
            state.watermark = newest
        state.last_run_at, state.last_count = utcnow(), count


async def _bad_records(runtime: Runtime, errors: list[object]) -> None:
    async with session_scope(runtime.sessionmaker) as session:
        for error in errors:
            await exceptions.raise_exception(
                session,
                "IP_BAD_PAYLOAD",
                {"ip_po_id": getattr(error, "record_id", None) or "(unknown)"},
                message=getattr(error, "message", None),
                source="recommendations.poll",
                evidence={"record": getattr(error, "raw", None)},
            )


async def poll_once(runtime: Runtime) -> int:
    since = await _since(runtime)
    newest, count = None, 0
    async for page in clients.ip(runtime).iter_purchase_order_pages(last_modified_gt=since):
        for po in page.good:
            await ingest_po(runtime, po)
            count += 1
            if po.last_modified is not None:
                newest = max(newest or as_utc(po.last_modified), as_utc(po.last_modified))
        if page.errors:
            await _bad_records(runtime, list(page.errors))
    await _save(runtime, newest, count)
    log.info("recommendations.polled", extra={"count": count, "since": since.isoformat() if since else None})
    return count

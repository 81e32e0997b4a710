"""Who changed what, before and after, and when. Called by every service that changes data."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit import repository
from app.kit.context import current_request_id
from app.kit.redact import redact
from app.models.audit import AuditEntry


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
    flush: bool = True,
) -> AuditEntry:
    """`flush=False` leaves the INSERT to the next flush: a batch writes its entries together."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=redact(before) if before is not None else None,
        after=redact(after) if after is not None else None,
        note=note,
        request_id=current_request_id(),
    )
    return await repository.add(session, entry, flush=flush)


"""Who changed what, before and after, and when. Called by every service that changes data."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit import repository
from app.kit.context import current_request_id
from app.kit.redact import redact
from app.kit.time import utcnow
from app.models.audit import AuditEntry
from app.models.base import new_id


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
) -> AuditEntry:
    entry = AuditEntry(**entry_values(
        actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
        request_id=current_request_id(), before=before, after=after, note=note,
    ))
    return await repository.add(session, entry)


def entry_values(
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    request_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The columns of one entry (secrets redacted); `record_many` inserts them without ORM objects."""
    return {
        "id": new_id(),
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": redact(before) if before is not None else None,
        "after": redact(after) if after is not None else None,
        "request_id": request_id,
        "note": note,
    }


async def record_many(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """One INSERT for many entries built by `entry_values`."""
    await repository.insert_many(session, entries)

"""GET /audit: who changed what, newest first (admin scope: entries show before/after values)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, ConfigDict

from app.audit import repository
from app.auth.deps import AdminDep
from app.db.session import SessionDep
from app.errors import BadRequest
from app.kit.pagination import decode_cursor, encode_cursor
from app.kit.time import as_utc

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    at: Annotated[datetime, AfterValidator(as_utc)]
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    note: str | None


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


def _position(cursor: str) -> tuple[datetime, str]:
    values = decode_cursor(cursor)
    try:
        return as_utc(datetime.fromisoformat(str(values["t"]))), str(values["id"])
    except (KeyError, ValueError):
        raise BadRequest("The cursor is not valid; use the next_cursor of a previous page.")


@router.get("", response_model=AuditPageOut, summary="Audit entries, newest first")
async def list_audit(
    session: SessionDep,
    _: AdminDep,
    entity_type: Annotated[str | None, Query(max_length=60)] = None,
    entity_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPageOut:
    rows = await repository.page(session, entity_type=entity_type, entity_id=entity_id, actor=actor,
                       after=_position(cursor) if cursor else None, limit=limit + 1)
    items = rows[:limit]
    next_cursor = (encode_cursor({"t": as_utc(items[-1].at).isoformat(), "id": items[-1].id})
                   if len(rows) > limit else None)
    return AuditPageOut(items=[AuditEntryOut.model_validate(r) for r in items], next_cursor=next_cursor)

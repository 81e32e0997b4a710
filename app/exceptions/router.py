"""/exceptions: the register for dashboards and people (read), status changes and retries (write)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import ReadDep, WriteDep
from app.db.session import SessionDep
from app.exceptions import service
from app.exceptions.repository import ExceptionFilter
from app.exceptions.schemas import (
    ExceptionOut,
    ExceptionPageOut,
    RetryIn,
    RetryOut,
    StatusChangeIn,
    SummaryOut,
)
from app.kit.time import as_utc
from app.models.exception import ExceptionStatus, ExceptionType, Owner, Severity

router = APIRouter(prefix="/exceptions", tags=["exceptions"])


@router.get("", response_model=ExceptionPageOut, summary="List exceptions, most recently seen first")
async def list_exceptions(
    session: SessionDep,
    _: ReadDep,
    type: Annotated[list[ExceptionType] | None, Query()] = None,
    owner: Annotated[list[Owner] | None, Query()] = None,
    status: Annotated[list[ExceptionStatus] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    subject: Annotated[str | None, Query(max_length=200, description="Substring of the subject")] = None,
    since: Annotated[datetime | None, Query(description="Only those seen at or after this time")] = None,
    source: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ExceptionPageOut:
    where = ExceptionFilter(types=type or (), owners=owner or (), statuses=status or (),
                            severities=severity or (), subject=subject, source=source,
                            since=as_utc(since) if since else None)
    page = await service.list(session, where, cursor=cursor, limit=limit)
    return ExceptionPageOut(items=[ExceptionOut.model_validate(row) for row in page.items],
                            next_cursor=page.next_cursor)


@router.get("/summary", response_model=SummaryOut, summary="Counts by owner, type and status")
async def summary(session: SessionDep, _: ReadDep) -> SummaryOut:
    return SummaryOut.build(list(await service.summary(session)))


@router.get("/{exception_id}", response_model=ExceptionOut)
async def get_exception(exception_id: str, session: SessionDep, _: ReadDep) -> ExceptionOut:
    return ExceptionOut.model_validate(await service.get(session, exception_id))


async def _change(session: SessionDep, exception_id: str, action: str, actor: str,
                  body: StatusChangeIn | None) -> ExceptionOut:
    note = body.note if body else None
    row = await service.transition(session, exception_id, action, actor=actor, note=note)
    return ExceptionOut.model_validate(row)


@router.post("/{exception_id}/acknowledge", response_model=ExceptionOut, summary="Someone is on it")
async def acknowledge(exception_id: str, session: SessionDep,
                      principal: WriteDep, body: StatusChangeIn | None = None) -> ExceptionOut:
    return await _change(session, exception_id, "acknowledge", principal.actor, body)


@router.post("/{exception_id}/resolve", response_model=ExceptionOut,
             summary="Mark fixed (it reopens if the condition recurs)")
async def resolve(exception_id: str, session: SessionDep,
                  principal: WriteDep, body: StatusChangeIn | None = None) -> ExceptionOut:
    return await _change(session, exception_id, "resolve", principal.actor, body)


@router.post("/{exception_id}/ignore", response_model=ExceptionOut,
             summary="Stop reporting it (recurrences are still counted)")
async def ignore(exception_id: str, session: SessionDep,
                 principal: WriteDep, body: StatusChangeIn | None = None) -> ExceptionOut:
    return await _change(session, exception_id, "ignore", principal.actor, body)


@router.post("/{exception_id}/reopen", response_model=ExceptionOut,
             summary="Undo a resolve or an ignore")
async def reopen(exception_id: str, session: SessionDep,
                 principal: WriteDep, body: StatusChangeIn | None = None) -> ExceptionOut:
    return await _change(session, exception_id, "reopen", principal.actor, body)


@router.post("/{exception_id}/retry", response_model=RetryOut,
             summary="Retry the failed operation with corrections (types with a retry handler only)")
async def retry(exception_id: str, body: RetryIn, session: SessionDep, principal: WriteDep) -> RetryOut:
    row, result = await service.retry(session, exception_id, corrections=body.corrections, note=body.note,
                                      principal=principal)
    return RetryOut(exception=ExceptionOut.model_validate(row), result=result)

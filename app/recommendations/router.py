"""/recommendations: list, detail, approve (or dry-run), reject."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.auth.deps import ReadDep, WriteDep
from app.db.session import SessionDep
from app.kit.pagination import decode_cursor, encode_cursor
from app.kit.time import as_utc
from app.models.recommendation import RecommendationStatus
from app.recommendations import repository, schemas, service
from app.writeback import repository as writes
from app.writeback import retry  # noqa: F401  (registers the write-back retry handlers)
from app.writeback.router import router as adjustments_router

router = APIRouter(tags=["recommendations"])


@router.get("/recommendations", response_model=schemas.RecommendationPage)
async def list_recommendations(
    session: SessionDep,
    _: ReadDep,
    status: RecommendationStatus | None = None,
    ip_po_id: str | None = None,
    vendor: str | None = None,
    sku: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> schemas.RecommendationPage:
    after = None
    if cursor:
        raw = decode_cursor(cursor)
        after = (as_utc(datetime.fromisoformat(raw["c"])), str(raw["i"]))
    rows = await repository.page(
        session, repository.Filter(status, ip_po_id, vendor, sku), after=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    token = encode_cursor({"c": as_utc(rows[-1].created_at).isoformat(), "i": rows[-1].id}) if more else None
    return schemas.RecommendationPage(
        items=[schemas.RecommendationOut.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=token,
    )


@router.get("/recommendations/{rec_id}", response_model=schemas.RecommendationDetail)
async def get_recommendation(rec_id: str, session: SessionDep, _: ReadDep) -> schemas.RecommendationDetail:
    rec = await service.get(session, rec_id)
    lines = await repository.lines(session, rec.id)
    write_rows = await writes.writes_for_source(session, rec.id)
    attempts = await writes.attempts_for(session, [w.id for w in write_rows])
    documents = await writes.documents_for_source(session, rec.id)
    base = schemas.RecommendationOut.model_validate(rec, from_attributes=True).model_dump()
    return schemas.RecommendationDetail(
        **base,
        lines=_all(schemas.LineOut, lines),
        writes=_all(schemas.WriteOut, write_rows),
        attempts=_all(schemas.AttemptOut, attempts),
        documents=_all(schemas.DocumentOut, documents),
    )


def _all(model: Any, rows: list[Any]) -> list[Any]:
    return [model.model_validate(row, from_attributes=True) for row in rows]


@router.post("/recommendations/{rec_id}/approve", response_model=schemas.RecommendationOut | schemas.DryRun)
async def approve(
    rec_id: str, request: Request, session: SessionDep, principal: WriteDep, dry_run: bool = False
) -> Any:
    """Approve and queue for SAP; `dry_run=true` returns the exact SAP bodies and changes nothing."""
    settings = request.app.state.settings
    if dry_run:
        return schemas.DryRun(documents=await service.dry_run(session, settings, rec_id))
    rec = await service.approve(session, settings, rec_id, principal.actor)
    return schemas.RecommendationOut.model_validate(rec, from_attributes=True)


@router.post("/recommendations/{rec_id}/reject", response_model=schemas.RecommendationOut)
async def reject(
    rec_id: str, session: SessionDep, principal: WriteDep, body: schemas.RejectIn | None = None
) -> schemas.RecommendationOut:
    rec = await service.reject(session, rec_id, principal.actor, body.reason if body else None)
    return schemas.RecommendationOut.model_validate(rec, from_attributes=True)


# POST /stock/adjustments lives in app.writeback; mounted through this module so the existing
# ROUTERS entry serves it (and the retry handlers are registered wherever the API runs).
router.include_router(adjustments_router)

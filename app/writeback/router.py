"""POST /stock/adjustments (Idempotency-Key required, Stripe-style) and GET /stock/adjustments/{id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from app.auth.deps import ReadDep, WriteDep
from app.db.session import SessionDep
from app.writeback import adjustments
from app.writeback.adjustments import AdjustmentIn, AdjustmentOut

router = APIRouter(prefix="/stock/adjustments", tags=["stock adjustments"])


@router.post("", status_code=202, response_model=AdjustmentOut)
async def create_adjustment(
    body: AdjustmentIn,
    request: Request,
    session: SessionDep,
    principal: WriteDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Positive lines → Goods Receipt, negative → Goods Issue; the same key with the same body answers
    the first response again, with another body 422; no key 400."""
    status, payload = await adjustments.create(
        session, request.app.state.settings, body, key=idempotency_key, actor=principal.actor
    )
    return JSONResponse(payload, status_code=status)


@router.get("/{adjustment_id}", response_model=AdjustmentOut)
async def get_adjustment(adjustment_id: str, session: SessionDep, _: ReadDep) -> AdjustmentOut:
    return await adjustments.show(session, adjustment_id)

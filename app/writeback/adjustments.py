"""Stock adjustments from internal systems: Goods Receipt / Goods Issue through the same pipeline.

Never a stock transfer: a correction must leave a receipt or issue in SAP's audit trail (seed,
"Common failures"). Idempotency follows Stripe: the key stores the first response; the same key
with the same body gets it back verbatim, with another body a 422.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit import service as audit
from app.config import Settings
from app.errors import BadRequest, NotFound, Unprocessable
from app.kit.context import current_request_id
from app.models.writeback import StockAdjustment
from app.writeback import payloads, repository, service


class AdjustmentLineIn(BaseModel):
    sku: str = Field(min_length=1, max_length=50)
    warehouse: str = Field(min_length=1, max_length=8)
    quantity: Decimal
    reason: str | None = Field(default=None, max_length=254)

    @field_validator("quantity")
    @classmethod
    def _non_zero(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value == 0:
            raise ValueError("quantity must be a non-zero number (positive adds stock, negative removes it)")
        return value


class AdjustmentIn(BaseModel):
    reason: str = Field(min_length=1, max_length=254)
    effective_date: date
    lines: list[AdjustmentLineIn] = Field(min_length=1, max_length=500)


class AdjustmentWrite(BaseModel):
    id: str
    entity: str
    status: str
    doc_entry: int | None
    doc_num: int | None
    posted_date: date | None
    last_error: dict[str, Any] | None


class AdjustmentOut(BaseModel):
    id: str
    status: str
    reason: str
    effective_date: date
    idempotency_key: str
    lines: list[dict[str, Any]]
    writes: list[AdjustmentWrite] = []


def request_hash(body: AdjustmentIn) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


async def create(
    session: AsyncSession, settings: Settings, body: AdjustmentIn, *, key: str | None, actor: str
) -> tuple[int, dict[str, Any]]:
    if not key or not key.strip():
        raise BadRequest("The Idempotency-Key header is required.")
    digest = request_hash(body)
    existing = await repository.adjustment_by_key(session, key)
    if existing is None:
        row = _new(body, key, digest, actor)
        if await repository.insert_adjustment(session, row):
            return await _queue(session, settings, row, body)
        existing = await repository.adjustment_by_key(session, key)  # a concurrent twin won
        assert existing is not None
    if existing.request_sha256 != digest:
        raise Unprocessable("This Idempotency-Key was used with a different body.")
    return existing.response_status, existing.response_body


def _new(body: AdjustmentIn, key: str, digest: str, actor: str) -> StockAdjustment:
    return StockAdjustment(
        idempotency_key=key[:255],
        request_sha256=digest,
        actor=actor,
        reason=body.reason,
        effective_date=body.effective_date,
        request_id=current_request_id(),
        lines=[line.model_dump(mode="json") for line in body.lines],
    )


async def _queue(
    session: AsyncSession, settings: Settings, row: StockAdjustment, body: AdjustmentIn
) -> tuple[int, dict[str, Any]]:
    header = {
        "comments": f"b1bridge adjustment {row.id}: {body.reason}"[:254],
        "idempotency_key": row.idempotency_key,
        "request_id": row.request_id,
    }
    for entity, suffix, keep in ((payloads.GOODS_RECEIPT, "in", True), (payloads.GOODS_ISSUE, "out", False)):
        lines = [
            {
                "line_no": n,
                "item_code": line.sku,
                "warehouse_code": line.warehouse,
                "quantity": str(abs(line.quantity)),
                "price": None,
            }
            for n, line in enumerate(body.lines, start=1)
            if (line.quantity > 0) is keep
        ]
        if lines:
            await service.queue(
                session,
                source_type="adjustment",
                source_id=row.id,
                entity=entity,
                ext_ref=f"adj:{row.id}:{suffix}",
                group_key=suffix,
                doc_date=row.effective_date,
                header=header,
                lines=lines,
            )
    await audit.record(
        session,
        actor=row.actor,
        action="stock_adjustment.requested",
        entity_type="adjustment",
        entity_id=row.id,
        after={
            "idempotency_key": row.idempotency_key,
            "lines": row.lines,
            "reason": row.reason,
            "request_id": row.request_id,
        },
    )
    out = await show(session, row.id)
    row.response_status, row.response_body = 202, out.model_dump(mode="json")
    return 202, row.response_body


async def show(session: AsyncSession, adjustment_id: str) -> AdjustmentOut:
    row = await session.get(StockAdjustment, adjustment_id, populate_existing=True)
    if row is None:
        raise NotFound(f"No stock adjustment {adjustment_id}.")
    writes = await repository.writes_for_source(session, row.id)
    return AdjustmentOut(
        id=row.id,
        status=str(row.status),
        reason=row.reason,
        effective_date=row.effective_date,
        idempotency_key=row.idempotency_key,
        lines=row.lines,
        writes=[AdjustmentWrite.model_validate(w, from_attributes=True) for w in writes],
    )

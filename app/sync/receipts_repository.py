"""SQL of the receipts stream (GRPO ledger, receipts sent). A module of its own because
app/sync/repository.py is the stock engine's hot path; the generic upsert is reused from there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.sync import GrpoLine, PoReceipt
from app.sync import repository


async def save_grpo_lines(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await repository.upsert(session, GrpoLine, rows, ["doc_entry", "line_num"])


async def received_by_line(session: AsyncSession, po_entry: int) -> dict[int, float]:
    """SAP PO LineNum → quantity received over every (not cancelled) GRPO line copying it."""
    query = (
        select(col(GrpoLine.base_line), func.sum(col(GrpoLine.quantity)))
        .where(col(GrpoLine.base_entry) == po_entry, col(GrpoLine.cancelled).is_(False))
        .group_by(col(GrpoLine.base_line))
    )
    result = await session.exec(query)
    return {int(line): float(total or 0) for line, total in result.all()}


async def sent(session: AsyncSession, ip_po_id: str) -> dict[str, PoReceipt]:
    return await repository.receipts(session, ip_po_id)


async def save_sent(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await repository.upsert(session, PoReceipt, rows, ["ip_po_id", "ip_line_id"])

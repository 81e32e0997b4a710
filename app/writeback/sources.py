"""What a write's outcome means for its source (a recommendation or a stock adjustment)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.kit.time import utcnow
from app.models.recommendation import Recommendation, RecommendationStatus
from app.models.writeback import AdjustmentStatus, StockAdjustment, WriteStatus
from app.writeback import repository

# The worst live write decides: one failed document fails the whole recommendation.
ORDER = (
    WriteStatus.failed,
    WriteStatus.rejected,
    WriteStatus.held,
    WriteStatus.posting,
    WriteStatus.queued,
    WriteStatus.posted,
)
FINAL_RECOMMENDATION = {RecommendationStatus.superseded, RecommendationStatus.rejected}


def aggregate(statuses: list[WriteStatus]) -> WriteStatus | None:
    live = [s for s in statuses if s is not WriteStatus.superseded]
    return next((s for s in ORDER if s in live), None)


async def refresh(session: AsyncSession, source_type: str, source_id: str) -> None:
    writes = await repository.writes_for_source(session, source_id)
    status = aggregate([WriteStatus(w.status) for w in writes])
    if status is None:
        return
    if source_type == "recommendation":
        await _recommendation(session, source_id, status)
    else:
        await _adjustment(session, source_id, status)


async def _recommendation(session: AsyncSession, source_id: str, status: WriteStatus) -> None:
    rec = await session.get(Recommendation, source_id)
    if rec is None or rec.status in FINAL_RECOMMENDATION:
        return
    rec.status = (
        RecommendationStatus.failed if status is WriteStatus.rejected else RecommendationStatus(status)
    )
    rec.updated_at = utcnow()


async def _adjustment(session: AsyncSession, source_id: str, status: WriteStatus) -> None:
    adjustment = await session.get(StockAdjustment, source_id)
    if adjustment is None:
        return
    failed = status in (WriteStatus.failed, WriteStatus.rejected)
    adjustment.status = AdjustmentStatus.failed if failed else AdjustmentStatus(status)
    adjustment.updated_at = utcnow()

"""What a write's outcome means for its source (a recommendation or a stock adjustment)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.params import one_of
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
# Built once (app.db.params).
_RECOMMENDATIONS = select(Recommendation).where(one_of(Recommendation.id, "ids"))
_ADJUSTMENTS = select(StockAdjustment).where(one_of(StockAdjustment.id, "ids"))


def aggregate(statuses: list[WriteStatus]) -> WriteStatus | None:
    live = [s for s in statuses if s is not WriteStatus.superseded]
    return next((s for s in ORDER if s in live), None)


async def refresh(session: AsyncSession, source_type: str, source_id: str) -> None:
    await refresh_many(session, [(source_type, source_id)])


async def refresh_many(session: AsyncSession, sources: Iterable[tuple[str, str]]) -> None:
    """(source_type, source_id) pairs: each source takes the status its writes add up to."""
    types = {source_id: source_type for source_type, source_id in sources}
    if not types:
        return
    statuses = await repository.statuses_for_sources(session, types)
    wanted = {sid: status for sid in types if (status := aggregate(statuses.get(sid, []))) is not None}
    now = utcnow()
    recommendations = [sid for sid in wanted if types[sid] == "recommendation"]
    if recommendations:
        for rec in (await session.exec(_RECOMMENDATIONS, params={"ids": recommendations})).all():
            if rec.status not in FINAL_RECOMMENDATION:
                status = wanted[rec.id]
                failed = status is WriteStatus.rejected
                rec.status = RecommendationStatus.failed if failed else RecommendationStatus(status)
                rec.updated_at = now
    adjustments = [sid for sid in wanted if types[sid] != "recommendation"]
    if adjustments:
        for adjustment in (await session.exec(_ADJUSTMENTS, params={"ids": adjustments})).all():
            failed = wanted[adjustment.id] in (WriteStatus.failed, WriteStatus.rejected)
            adjustment.status = AdjustmentStatus.failed if failed else AdjustmentStatus(wanted[adjustment.id])
            adjustment.updated_at = now

"""SQL for recommendations, their lines and the polling watermark."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.recommendation import PollState, Recommendation, RecommendationLine, RecommendationStatus


@dataclass(frozen=True)
class Filter:
    status: RecommendationStatus | None = None
    ip_po_id: str | None = None
    vendor: str | None = None
    sku: str | None = None


async def get(session: AsyncSession, rec_id: str) -> Recommendation | None:
    return await session.get(Recommendation, rec_id, populate_existing=True)


async def latest_for_po(session: AsyncSession, po_id: str) -> Recommendation | None:
    result = await session.exec(
        select(Recommendation)
        .where(Recommendation.ip_po_id == po_id)
        .order_by(col(Recommendation.version).desc())
        .limit(1)
    )
    return result.first()


async def lines(session: AsyncSession, rec_id: str) -> list[RecommendationLine]:
    result = await session.exec(
        select(RecommendationLine)
        .where(RecommendationLine.recommendation_id == rec_id)
        .order_by(col(RecommendationLine.line_no))
    )
    return list(result.all())


async def add_all(session: AsyncSession, rows: list[object]) -> None:
    session.add_all(rows)
    await session.flush()


async def page(
    session: AsyncSession, where: Filter, *, after: tuple[datetime, str] | None, limit: int
) -> list[Recommendation]:
    query = select(Recommendation)
    if where.status is not None:
        query = query.where(Recommendation.status == where.status)
    if where.ip_po_id:
        query = query.where(Recommendation.ip_po_id == where.ip_po_id)
    if where.vendor:
        query = query.where(
            or_(Recommendation.ip_vendor == where.vendor, Recommendation.card_code == where.vendor)
        )
    if where.sku:
        having = select(RecommendationLine.recommendation_id).where(
            or_(RecommendationLine.sku == where.sku, RecommendationLine.item_code == where.sku)
        )
        query = query.where(col(Recommendation.id).in_(having))
    if after is not None:
        created, rec_id = after
        query = query.where(
            or_(
                col(Recommendation.created_at) < created,
                (col(Recommendation.created_at) == created) & (col(Recommendation.id) < rec_id),
            )
        )
    query = query.order_by(col(Recommendation.created_at).desc(), col(Recommendation.id).desc()).limit(limit)
    return list((await session.exec(query)).all())


async def poll_state(session: AsyncSession, name: str) -> PollState:
    state = await session.get(PollState, name)
    if state is None:
        state = PollState(name=name)
        session.add(state)
        await session.flush()
    return state


# Not yet settled in SAP: what an inactive item on it would still block or order.
OPEN_STATUSES = (
    RecommendationStatus.received,
    RecommendationStatus.validated,
    RecommendationStatus.blocked,
    RecommendationStatus.approved,
    RecommendationStatus.queued,
    RecommendationStatus.posting,
    RecommendationStatus.failed,
    RecommendationStatus.held,
)


async def open_counts_by_sku(session: AsyncSession) -> dict[str, int]:
    """Open recommendations per SAP item code (the IP SKU when no item code was resolved)."""
    code = func.coalesce(RecommendationLine.item_code, RecommendationLine.sku)
    query = (
        select(code, func.count(func.distinct(RecommendationLine.recommendation_id)))
        .join(Recommendation, col(Recommendation.id) == col(RecommendationLine.recommendation_id))
        .where(col(Recommendation.status).in_(OPEN_STATUSES), code.is_not(None))
        .group_by(code)
    )
    return {str(sku): int(n) for sku, n in (await session.exec(query)).all()}


async def ids_with_status(session: AsyncSession, status: RecommendationStatus, limit: int) -> list[str]:
    query = (
        select(Recommendation.id)
        .where(Recommendation.status == status)
        .order_by(col(Recommendation.created_at))
        .limit(limit)
    )
    return list((await session.exec(query)).all())

"""INACTIVE_ITEM for an item inactive in SAP that an open recommendation still orders: the sync's
monitor counts open recommendations per SKU through the recommendations service."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.models.exception import BusinessException
from app.models.recommendation import Recommendation, RecommendationLine, RecommendationStatus
from app.models.sync import ItemState
from app.recommendations import service as recommendation_service
from app.sync import monitor, rules


def _recommendation(
    session: AsyncSession, po: str, status: RecommendationStatus, *skus: str
) -> Recommendation:
    rec = Recommendation(ip_po_id=po, content_hash="h", status=status)
    session.add(rec)
    for n, sku in enumerate(skus, start=1):
        session.add(RecommendationLine(recommendation_id=rec.id, line_no=n, sku=sku, item_code=sku))
    return rec


async def _inactive_item(session: AsyncSession, settings: Settings) -> list[BusinessException]:
    await monitor.detect(session, settings)
    rows = (await session.exec(select(BusinessException))).all()
    return [r for r in rows if r.type == "INACTIVE_ITEM" and r.status == "open"]


async def test_open_counts_by_sku_counts_only_unsettled_recommendations(session: AsyncSession) -> None:
    _recommendation(session, "po1", RecommendationStatus.blocked, "A", "B")
    _recommendation(session, "po2", RecommendationStatus.queued, "A")
    _recommendation(session, "po3", RecommendationStatus.posted, "A", "C")
    _recommendation(session, "po4", RecommendationStatus.superseded, "C")
    await session.flush()
    assert await recommendation_service.open_counts_by_sku(session) == {"A": 2, "B": 1}


async def test_an_inactive_item_on_an_open_recommendation_raises_inactive_item_until_settled(
    session: AsyncSession, settings: Settings
) -> None:
    # Not live in IP (removed), so only the open recommendation makes it worth an exception.
    session.add(ItemState(sku="X1", live=False, excluded_rule=rules.INACTIVE_ITEM, ip_removed=True))
    session.add(ItemState(sku="Y1", live=True, ip_removed=False))
    rec = _recommendation(session, "po1", RecommendationStatus.validated, "X1", "Y1")
    await session.flush()
    (found,) = await _inactive_item(session, settings)
    assert found.subject == {"sku": "X1"} and found.evidence["open_recommendations"] == 1

    rec.status = RecommendationStatus.rejected
    await session.flush()
    assert await _inactive_item(session, settings) == []

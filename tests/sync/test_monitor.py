"""The detectors pass over stored state: STOCK_DRIFT and INACTIVE_ITEM raised from the rows that
can raise them, valued and evidenced, and resolved once the figures agree again."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.kit.time import utcnow
from app.models.exception import BusinessException
from app.models.sync import IpStock, ItemState
from app.sync import monitor, rules


async def _open(session: AsyncSession, settings: Settings, type_: str) -> list[BusinessException]:
    await monitor.detect(session, settings)
    rows = (await session.exec(select(BusinessException))).all()
    return sorted((r for r in rows if r.type == type_ and r.status == "open"), key=lambda r: str(r.subject))


def _stock(sku: str, wh: str, sap: float, ip: float | None, *, live: bool = True) -> IpStock:
    return IpStock(
        sku=sku, ip_warehouse_id=wh, sap_available=sap, ip_in_stock=ip, live=live, changed_at=utcnow()
    )


async def test_drift_beyond_both_tolerances_is_raised_with_its_value_then_resolved(
    session: AsyncSession, settings: Settings
) -> None:
    session.add(ItemState(sku="A1", avg_price=2.5, seen_at=utcnow()))
    drifting = _stock("A1", "01", 100, 60)
    session.add_all(
        [
            drifting,
            _stock("A1", "02", 100, 99.5),  # within the absolute tolerance (1)
            _stock("B1", "01", 10_000, 9_960),  # 40 units, but 0.4 %: within the relative one (5 %)
            _stock("C1", "01", 50, None),  # IP has not reported yet
            _stock("D1", "01", 5, 500, live=False),  # not live: IP is told to remove it
        ]
    )
    await session.flush()
    (found,) = await _open(session, settings, "STOCK_DRIFT")
    assert found.subject == {"sku": "A1", "warehouse": "01"}
    assert found.evidence["difference"] == 40 and found.evidence["value_at_cost"] == 100.0

    drifting.ip_in_stock = 100
    await session.flush()
    assert await _open(session, settings, "STOCK_DRIFT") == []


async def test_an_inactive_item_ip_still_has_live_is_raised_and_group_exclusions_are_not(
    session: AsyncSession, settings: Settings
) -> None:
    now = utcnow()
    session.add_all(
        [
            ItemState(sku="X1", live=False, excluded_rule=rules.FROZEN_ITEM, sent_hash="h", seen_at=now),
            ItemState(sku="X2", live=False, excluded_rule=rules.INACTIVE_ITEM, ip_removed=True, seen_at=now),
            ItemState(sku="X3", live=False, excluded_rule=rules.GROUP_EXCLUDED, sent_hash="h", seen_at=now),
        ]
    )
    await session.flush()
    (found,) = await _open(session, settings, "INACTIVE_ITEM")
    assert found.subject == {"sku": "X1"} and found.evidence["rule"] == rules.FROZEN_ITEM

# ruff: noqa: ASYNC210  (the servers run in their own threads: a blocking call cannot stall them)
"""200 recommendations over 40 SKUs under SAP faults: all posted exactly once, no lock error surfaced."""

from __future__ import annotations

import random
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.db.session import session_scope
from app.emulators.sap_b1.config import FaultConfig
from app.models.exception import BusinessException
from app.models.recommendation import Recommendation
from app.writeback import clients, periods
from tests.writeback.harness import TOKEN, create_po, seed_mappings, stack

pytestmark = pytest.mark.asyncio
FAULTS = FaultConfig(
    seed=7,
    error_5xx_rate=0.10,
    deadlock_rate=0.10,
    row_lock_contention=True,
    session_expiry_every=50,
    write_latency_ms=5,
)


async def test_two_hundred_recommendations_under_faults_post_exactly_once(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url, sap={"items": 400}, retry_budget=12) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01", "c123_csv.02": "02"})
        skus = s.buyable_items(40)
        assert len(skus) == 40
        await periods.periods(clients.sap_writer(s.runtime), max_age=3600)  # warm, then turn faults on
        httpx.post(s.sap_url + "/_emulator/faults", json=FAULTS.model_dump()).raise_for_status()
        rng = random.Random(3)
        started = time.monotonic()
        for n in range(200):
            lines = [(sku, float(rng.randint(1, 9))) for sku in rng.sample(skus, 2)]
            po_id = create_po(s, skus=lines, warehouse="c123_csv.01" if n % 2 else "c123_csv.02")
            response = httpx.post(
                f"{s.api_url}/webhooks/inventory-planner/{TOKEN}", json={"purchase-order": {"id": po_id}}
            )
            assert response.status_code == 202
        await s.drain(rounds=400)
        async with session_scope(s.runtime.sessionmaker) as session:
            recs = (await session.exec(select(Recommendation))).all()
            raised = (await session.exec(select(BusinessException))).all()
        assert len(recs) == 200 and {r.status for r in recs} == {"posted"}
        assert [e.type for e in raised] == []  # no SAP_BUSY, no POST_FAILED from locks or faults
        stats = s.sap_stats()
        assert stats["documents_created"]["PurchaseOrders"] == 200
        assert not stats["duplicates_by_ext_ref"]
        assert sum(stats["faults"].values()) > 0  # the faults really fired
        assert stats["lock_conflicts"] == 0  # per-SKU locks: SAP never saw two writes on one row
        elapsed = time.monotonic() - started
        print(f"\n200 recommendations under faults in {elapsed:.1f}s; faults={stats['faults']}")

"""Webhook → recommendation → SAP PO (line-level warehouses) → IP reference, over real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.db.session import session_scope
from app.models.recommendation import Recommendation
from app.models.writeback import SapWrite
from tests.writeback.harness import TOKEN, Stack, create_po, seed_mappings, stack

pytestmark = pytest.mark.asyncio


async def _recs(s: Stack) -> list[Recommendation]:
    async with session_scope(s.runtime.sessionmaker) as session:
        return list((await session.exec(select(Recommendation))).all())


async def _writes(s: Stack) -> list[SapWrite]:
    async with session_scope(s.runtime.sessionmaker) as session:
        return list((await session.exec(select(SapWrite))).all())


def _deliver(s: Stack, po_id: str, last_modified: str = "2031-01-01T00:00:00Z") -> httpx.Response:
    return httpx.post(f"{s.api_url}/webhooks/inventory-planner/{TOKEN}",
                      json={"purchase-order": {"id": po_id, "last_modified": last_modified}})


async def test_webhook_to_sap_po_with_line_warehouses_and_ip_reference(tmp_path: Path,
                                                                       database_url: str | None) -> None:
    async with stack(tmp_path, database_url) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        a, b = s.buyable_items(2)
        po_id = create_po(s, skus=[(a, 4), (b, 6)])
        for _ in range(3):  # the same delivery three times
            assert _deliver(s, po_id).status_code == 202
        await s.drain()
        (rec,) = await _recs(s)
        assert rec.status == "posted"
        (write,) = await _writes(s)
        doc = s.sap_store.tables["PurchaseOrders"].rows[write.doc_entry]
        assert [line["WarehouseCode"] for line in doc["DocumentLines"]] == ["01", "01"]
        assert doc["CardCode"] == "V10000"
        assert s.ip_store.get_purchase_order(po_id)["reference"] == str(write.doc_num)
        stats = s.sap_stats()
        assert stats["documents_created"].get("PurchaseOrders") == 1
        assert not stats["duplicates_by_ext_ref"]

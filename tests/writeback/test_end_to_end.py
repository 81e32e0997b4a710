"""Webhook → recommendation → SAP PO (line-level warehouses) → IP reference, over real HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.db.session import session_scope
from app.models.recommendation import Recommendation
from app.models.webhook import WebhookDelivery
from app.models.writeback import SapWrite
from app.writeback import clients, periods
from tests.writeback.harness import TOKEN, Stack, create_po, seed_mappings, stack

pytestmark = pytest.mark.asyncio


async def _recs(s: Stack) -> list[Recommendation]:
    async with session_scope(s.runtime.sessionmaker) as session:
        return list((await session.exec(select(Recommendation))).all())


async def _writes(s: Stack) -> list[SapWrite]:
    async with session_scope(s.runtime.sessionmaker) as session:
        return list((await session.exec(select(SapWrite))).all())


def _deliver(s: Stack, po_id: str, last_modified: str = "2031-01-01T00:00:00Z") -> httpx.Response:
    return httpx.post(
        f"{s.api_url}/webhooks/inventory-planner/{TOKEN}",
        json={"purchase-order": {"id": po_id, "last_modified": last_modified}},
    )


async def test_webhook_to_sap_po_with_line_warehouses_and_ip_reference(
    tmp_path: Path, database_url: str | None
) -> None:
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


async def test_a_post_whose_response_is_lost_is_adopted_not_reposted(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        (a,) = s.buyable_items(1)
        # Periods are read through POST actions, which the fault would hit too: load them first.
        await periods.periods(clients.sap_writer(s.runtime), max_age=3600)
        s.set_sap_faults(commit_then_drop_rate=1.0)  # SAP commits, the worker never hears back
        po_id = create_po(s, skus=[(a, 4)])
        assert _deliver(s, po_id).status_code == 202
        await s.drain()
        (write,) = await _writes(s)
        assert write.status == "posted" and write.operation == "create"
        stats = s.sap_stats()
        assert stats["documents_created"] == {"PurchaseOrders": 1} and not stats["duplicates_by_ext_ref"]


async def test_a_worker_that_died_mid_post_leads_to_a_lookup(
    tmp_path: Path, database_url: str | None
) -> None:
    """The first run dies right after SAP committed (task cancelled): the attempt it left behind
    makes the next run look the external reference up and adopt the document."""
    from app.writeback import pipeline

    async with stack(tmp_path, database_url) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        (a,) = s.buyable_items(1)
        po_id = create_po(s, skus=[(a, 4)])
        _deliver(s, po_id)
        await relay_and_ingest(s)
        (write,) = await _writes(s)
        sap = clients.sap_writer(s.runtime)
        original = sap.create

        async def create_then_die(entity: str, body: dict[str, object]) -> object:
            await original(entity, body)
            raise asyncio.CancelledError  # the process is gone before it records anything

        sap.create = create_then_die  # type: ignore[method-assign,assignment]
        with pytest.raises(asyncio.CancelledError):
            await pipeline.run(s.runtime, write.id)
        sap.create = original  # type: ignore[method-assign]
        await release_locks(s)
        assert await pipeline.run(s.runtime, write.id) == "posted"
        (write,) = await _writes(s)
        assert write.operation == "adopt"
        stats = s.sap_stats()
        assert stats["documents_created"] == {"PurchaseOrders": 1} and not stats["duplicates_by_ext_ref"]


async def test_lost_webhooks_are_caught_by_polling(tmp_path: Path, database_url: str | None) -> None:
    from app.recommendations import poll

    async with stack(tmp_path, database_url) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        a, b = s.buyable_items(2)
        first, second = create_po(s, skus=[(a, 1)]), create_po(s, skus=[(b, 2)])
        assert await poll.poll_once(s.runtime) == 2  # no webhook was ever delivered
        await s.drain()
        assert sorted(r.ip_po_id for r in await _recs(s) if r.status == "posted") == sorted([first, second])
        assert await poll.poll_once(s.runtime) >= 0  # a second pass re-reads harmlessly
        assert len(await _recs(s)) == 2


async def test_a_change_after_posting_updates_the_sap_document(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        (a,) = s.buyable_items(1)
        po_id = create_po(s, skus=[(a, 4)])
        _deliver(s, po_id)
        await s.drain()
        line_id = s.ip_store.get_purchase_order(po_id)["items"][0]["id"]
        s.ip_store.edit_purchase_order(po_id, {"items": [{"id": line_id, "replenishment": 9}]})
        _deliver(s, po_id, last_modified="2031-01-02T00:00:00Z")
        await s.drain()
        recs = sorted(await _recs(s), key=lambda r: r.version)
        assert [r.version for r in recs] == [1, 2] and recs[1].status == "posted"
        (doc,) = s.sap_store.tables["PurchaseOrders"].rows.values()
        assert doc["DocumentLines"][0]["Quantity"] == 9
        assert s.sap_stats()["documents_created"] == {"PurchaseOrders": 1}
        writes = await _writes(s)
        assert sorted(w.operation or "" for w in writes) == ["create", "update"]


async def relay_and_ingest(s: Stack) -> None:
    """Run everything except the write itself: the ingest job queues the write, nothing posts it."""
    from app.recommendations import poll

    async with session_scope(s.runtime.sessionmaker) as session:
        deliveries = (await session.exec(select(WebhookDelivery))).all()
    for delivery in deliveries:
        for po_id in delivery.po_ids:
            await poll.ingest_by_id(s.runtime, po_id)


async def release_locks(s: Stack) -> None:
    """A dead worker's leases expire; the test does not wait for that."""
    keys = await s.runtime.redis.keys(f"{s.settings.redis_namespace}:lock:*")
    if keys:
        await s.runtime.redis.delete(*keys)
    await s.runtime.redis.delete(f"{s.settings.redis_namespace}:sap:write-slots")


async def test_a_busy_sku_holds_the_document_after_its_claim_and_closes_the_attempt(
    tmp_path: Path, database_url: str | None
) -> None:
    """The claim needs only the document's own key; its SKUs are taken for the SAP calls alone.
    A SKU another document holds past the wait leaves a claimed write whose attempt says why it
    never reached SAP, so the retry posts without looking the document up first."""
    from arq import Retry

    from app.kit import gate
    from app.models.writeback import WriteAttempt
    from app.writeback import pipeline

    async with stack(tmp_path, database_url, lock_wait_seconds=0.2) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        a, b = s.buyable_items(2)
        _deliver(s, create_po(s, skus=[(a, 4), (b, 1)]))
        await relay_and_ingest(s)
        (write,) = await _writes(s)
        other = gate.Locks(s.runtime.redis, [clients.sku_lock_key(s.runtime, b)], 30)
        await other.acquire(1)
        with pytest.raises(Retry):
            await pipeline.run(s.runtime, write.id)
        async with session_scope(s.runtime.sessionmaker) as session:
            (attempt,) = (await session.exec(select(WriteAttempt))).all()
        assert attempt.outcome == "error" and attempt.error and attempt.error["error"] == "LockTimeout"
        assert not s.sap_stats()["documents_created"]
        await other.release()
        assert await pipeline.run(s.runtime, write.id) == "posted"
        routes = s.sap_stats()["requests_by_route"]
        assert "GET PurchaseOrders" not in routes  # no lookup: the attempt said nothing was sent
        assert routes["POST PurchaseOrders"] == 1

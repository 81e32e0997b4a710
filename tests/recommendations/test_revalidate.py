# ruff: noqa: ASYNC210  (the servers run in their own threads: a blocking call cannot stall them)
"""Blocked recommendations re-validated and full syncs requested (real worker, both emulators):
SKU_MISMATCH on an IP PO line is raised once, by the recommendations validation, and clears when
SAP learns the item; mapping changes through the API re-validate and re-route."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.db.session import session_scope
from app.integrations.sap_b1.client import SapB1Client
from app.models.exception import BusinessException
from app.models.outbox import OutboxMessage
from app.models.recommendation import Recommendation
from app.models.sync import SyncRun
from app.outbox import service as outbox
from app.recommendations import poll, revalidate
from app.sync import monitor
from app.sync import service as sync_service
from tests.writeback.harness import Stack, api_key, create_po, seed_mappings, stack

pytestmark = pytest.mark.asyncio


async def exceptions_of(s: Stack, type_: str) -> list[BusinessException]:
    async with session_scope(s.runtime.sessionmaker) as session:
        rows = (await session.exec(select(BusinessException))).all()
    return [r for r in rows if r.type == type_]


async def statuses(s: Stack) -> list[str]:
    async with session_scope(s.runtime.sessionmaker) as session:
        return [str(r.status) for r in (await session.exec(select(Recommendation))).all()]


async def run_revalidation(s: Stack) -> None:
    async with session_scope(s.runtime.sessionmaker) as session:
        await outbox.enqueue(session, revalidate.JOB, job_id=f"test:{uuid.uuid4().hex}", reason="test")
    await s.drain()


async def test_unknown_po_line_sku_is_one_exception_that_clears_when_sap_knows_the_item(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        (good,) = s.buyable_items(1)
        create_po(s, skus=[(good, 2), ("ZZ-UNKNOWN-1", 3)])
        await poll.poll_once(s.runtime)
        async with session_scope(s.runtime.sessionmaker) as session:
            await monitor.detect(session, s.runtime.settings)  # the sync no longer reports PO lines
        (mismatch,) = await exceptions_of(s, "SKU_MISMATCH")
        assert mismatch.subject == {"sku": "ZZ-UNKNOWN-1"} and mismatch.source == "recommendations"
        assert await statuses(s) == ["blocked"]

        await run_revalidation(s)  # nothing changed yet: still blocked, still one exception
        assert await statuses(s) == ["blocked"]
        assert [e.status for e in await exceptions_of(s, "SKU_MISMATCH")] == ["open"]

        async with SapB1Client(s.settings.sap) as sap:
            await sap.create("Items", {"ItemCode": "ZZ-UNKNOWN-1", "ItemName": "new item"})
        await run_revalidation(s)  # no IP change: the pass itself finds the item in SAP
        assert [e.status for e in await exceptions_of(s, "SKU_MISMATCH")] == ["resolved"]
        assert await statuses(s) == ["posted"]


async def _outbox_jobs(s: Stack) -> list[str]:
    async with session_scope(s.runtime.sessionmaker) as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return sorted(m.job_name for m in rows if m.job_name != "exceptions.escalate")


async def _full_runs(s: Stack) -> list[SyncRun]:
    async with session_scope(s.runtime.sessionmaker) as session:
        runs = (await session.exec(select(SyncRun).where(SyncRun.stream == "stock"))).all()
    return [r for r in runs if r.mode == "full"]


async def test_a_new_vendor_mapping_unblocks_blocked_recommendations(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        admin = await api_key(s.runtime, "admin")
        await seed_mappings(s.runtime, {}, {"c123_csv.01": "01"})
        (good,) = s.buyable_items(1)
        create_po(s, skus=[(good, 2)], vendor="v10001")
        await poll.poll_once(s.runtime)
        assert await statuses(s) == ["blocked"]
        assert [e.status for e in await exceptions_of(s, "UNMAPPED_VENDOR")] == ["open"]

        body = {"ip_vendor": "v10001", "sap_card_code": "V10001"}
        assert httpx.post(f"{s.api_url}/mappings/vendors", json=body, headers=admin).status_code == 201
        assert await _outbox_jobs(s) == [revalidate.JOB]  # a vendor routes no stock: no full sync
        await s.drain()
        assert [e.status for e in await exceptions_of(s, "UNMAPPED_VENDOR")] == ["resolved"]
        assert await statuses(s) == ["posted"]


async def test_warehouse_and_item_group_mapping_changes_request_a_full_stock_sync(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url, approval="manual") as s:
        admin = await api_key(s.runtime, "admin")
        url = f"{s.api_url}/mappings"
        body = {"sap_warehouse_code": "01", "ip_warehouse_id": "c123_csv.01"}
        assert httpx.post(f"{url}/warehouses", json=body, headers=admin).status_code == 201
        assert await _outbox_jobs(s) == sorted([revalidate.JOB, sync_service.JOB_FULL_REQUEST])
        group = {"sap_group_code": 100, "ip_category": "cat-100"}
        assert httpx.post(f"{url}/item-groups", json=group, headers=admin).status_code == 201
        await s.drain()
        (run,) = await _full_runs(s)  # two requests, one full run (single flight)
        assert run.trigger == "api" and run.status == "succeeded" and run.read_count > 0

        patch = {"ip_warehouse_name": "Main"}
        assert httpx.patch(f"{url}/warehouses/01", json=patch, headers=admin).status_code == 200
        assert httpx.delete(f"{url}/item-groups/100", headers=admin).status_code == 200
        await s.drain()
        runs = await _full_runs(s)  # one or two more: a request after that run started needs its own
        assert len(runs) >= 2 and all(r.status == "succeeded" for r in runs)

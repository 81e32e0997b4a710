"""Blocked recommendations re-validated (real worker, both emulators): SKU_MISMATCH on an IP PO
line is raised once, by the recommendations validation, and clears when SAP learns the item."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlmodel import select

from app.db.session import session_scope
from app.integrations.sap_b1.client import SapB1Client
from app.models.exception import BusinessException
from app.models.recommendation import Recommendation
from app.outbox import service as outbox
from app.recommendations import poll, revalidate
from app.sync import monitor
from tests.writeback.harness import Stack, create_po, seed_mappings, stack

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

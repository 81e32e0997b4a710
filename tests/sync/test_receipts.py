"""Receipts back to IP, end to end: IP PO → write-back (real worker) → SAP PO → GRPOs posted over
the Service Layer → `sync.receipts` (real worker) → the IP emulator's line `received`."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app.db.session import session_scope
from app.integrations.sap_b1.client import SapB1Client
from app.models.exception import BusinessException
from app.models.sync import PoReceipt, SyncRun
from app.models.writeback import SapWrite
from app.outbox import service as outbox
from app.sync import receipts
from tests.writeback.harness import TOKEN, Stack, create_po, seed_mappings, stack

pytestmark = pytest.mark.asyncio


async def _posted_po(s: Stack, skus: list[tuple[str, float]]) -> tuple[str, SapWrite]:
    """An IP PO through the webhook and the write-back pipeline into a posted SAP PO."""
    await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
    po_id = create_po(s, skus=skus)
    assert _deliver(s, po_id).status_code == 202
    await s.drain()
    async with session_scope(s.runtime.sessionmaker) as session:
        (write,) = (await session.exec(select(SapWrite))).all()
    assert write.status == "posted" and write.doc_entry is not None
    return po_id, write


def _deliver(s: Stack, po_id: str) -> httpx.Response:
    hint = {"purchase-order": {"id": po_id, "last_modified": "2031-01-01T00:00:00Z"}}
    return httpx.post(f"{s.api_url}/webhooks/inventory-planner/{TOKEN}", json=hint)


async def _grpo(s: Stack, po_entry: int, lines: dict[int, float]) -> None:
    """A goods receipt PO copying SAP PO lines (BaseType 22), posted over the Service Layer."""
    body = {
        "CardCode": "V10000",
        "DocumentLines": [
            {"BaseType": 22, "BaseEntry": po_entry, "BaseLine": n, "Quantity": q} for n, q in lines.items()
        ],
    }
    async with SapB1Client(s.settings.sap) as sap:
        await sap.create("PurchaseDeliveryNotes", body)


async def _run_receipts_job(s: Stack) -> None:
    async with session_scope(s.runtime.sessionmaker) as session:
        await outbox.enqueue(session, receipts.JOB, job_id=f"test:receipts:{uuid.uuid4().hex}")
    await s.drain()


def _received(s: Stack, po_id: str) -> dict[str, Any]:
    po = s.ip_store.get_purchase_order(po_id)
    return {
        "status": po["status"],
        "reference": po["reference"],
        **{i["sku"]: i["received"] for i in po["items"]},
    }


def _history(s: Stack, po_id: str) -> list[float]:
    return [h["value"] for h in s.ip_store.get_purchase_order(po_id)["items"][0]["received_history"]]


async def _runs(s: Stack) -> list[SyncRun]:
    async with session_scope(s.runtime.sessionmaker) as session:
        rows = (await session.exec(select(SyncRun).where(SyncRun.stream == receipts.STREAM))).all()
    return sorted(rows, key=lambda r: r.created_at)


async def test_grpos_become_cumulative_received_totals_on_the_ip_po(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        a, b = s.buyable_items(2)
        po_id, write = await _posted_po(s, [(a, 10), (b, 6)])
        assert write.doc_entry is not None
        await _grpo(s, write.doc_entry, {0: 4})  # partial receipt of the first line
        await _run_receipts_job(s)
        assert _received(s, po_id) == {
            "status": "partially received", "reference": str(write.doc_num), a: 4, b: 0,
        }  # fmt: skip

        await _grpo(s, write.doc_entry, {0: 3, 1: 6})
        await _run_receipts_job(s)
        assert _received(s, po_id) == {
            "status": "partially received", "reference": str(write.doc_num), a: 7, b: 6,
        }  # fmt: skip
        assert _history(s, po_id) == [4, 3]  # absolute totals: IP recorded +4, then +3

        await _run_receipts_job(s)  # the overlap re-reads both GRPOs: nothing changes
        assert _received(s, po_id)[a] == 7
        assert _history(s, po_id) == [4, 3]
        runs = await _runs(s)
        assert [r.status for r in runs] == ["succeeded"] * 3
        assert [r.sent_count for r in runs] == [1, 2, 0] and runs[-1].skipped_count == 1
        async with session_scope(s.runtime.sessionmaker) as session:
            sent = {r.sku: r.received for r in (await session.exec(select(PoReceipt))).all()}
        assert sent == {a: 7, b: 6}


async def test_a_readonly_ip_po_is_never_written_and_raises_an_exception(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        (a,) = s.buyable_items(1)
        po_id, write = await _posted_po(s, [(a, 5)])
        assert write.doc_entry is not None
        s.ip_store.edit_purchase_order(po_id, {"readonly": True})
        await _grpo(s, write.doc_entry, {0: 2})
        await _run_receipts_job(s)
        assert _received(s, po_id)[a] == 0
        assert await _readonly_status(s) == "open"

        s.ip_store.edit_purchase_order(po_id, {"readonly": False})
        await _run_receipts_job(s)  # the GRPO is still inside the re-read window
        assert _received(s, po_id)[a] == 2
        assert await _readonly_status(s) == "resolved"


async def _readonly_status(s: Stack) -> str | None:
    async with session_scope(s.runtime.sessionmaker) as session:
        rows = (await session.exec(select(BusinessException))).all()
    found = [r for r in rows if r.type == "IP_PO_READONLY"]
    return str(found[0].status) if found else None


async def test_grpos_against_sap_pos_b1bridge_did_not_create_are_ignored(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        (a,) = s.buyable_items(1)
        async with SapB1Client(s.settings.sap) as sap:
            po = await sap.create(
                "PurchaseOrders",
                {"CardCode": "V10000", "DocDueDate": "2031-07-01",
                 "DocumentLines": [{"ItemCode": a, "Quantity": 3, "WarehouseCode": "01"}]},
            )  # fmt: skip
        await _grpo(s, int(po.entity["DocEntry"]), {0: 3})
        await _run_receipts_job(s)
        (run,) = await _runs(s)
        assert run.status == "succeeded" and run.read_count == 1 and run.changed_count == 0

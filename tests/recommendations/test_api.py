# ruff: noqa: ASYNC210  (the servers run in their own threads: a blocking call cannot stall them)
"""/recommendations over HTTP with the emulators: validation, manual approval, dry run, lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app.db.session import session_scope
from app.models.exception import BusinessException
from app.recommendations import poll
from tests.writeback.harness import Stack, api_key, create_po, seed_mappings, stack

pytestmark = pytest.mark.asyncio


def _list(s: Stack, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{s.api_url}/recommendations", params=params, headers=headers)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


async def _open_exceptions(s: Stack) -> set[str]:
    async with session_scope(s.runtime.sessionmaker) as session:
        rows = (await session.exec(select(BusinessException))).all()
    return {row.type for row in rows if row.status == "open"}


async def test_problems_block_and_become_exceptions_that_clear(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        headers = await api_key(s.runtime, "read")
        (good,) = s.buyable_items(1)
        inactive = next(
            r["ItemCode"] for r in s.sap_store.tables["Items"].rows.values() if r["Valid"] == "tNO"
        )
        create_po(
            s, skus=[(good, 0), (inactive, 2), ("ZZ-UNKNOWN-1", 1)], vendor="v10001", warehouse="c123_csv.03"
        )
        await poll.poll_once(s.runtime)
        (rec,) = _list(s, headers)["items"]
        assert rec["status"] == "blocked"
        assert await _open_exceptions(s) == {
            "UNMAPPED_VENDOR",
            "UNMAPPED_WAREHOUSE",
            "SKU_MISMATCH",
            "INACTIVE_ITEM",
            "INVALID_QUANTITY",
        }
        await seed_mappings(s.runtime, {"v10001": "V10001"}, {"c123_csv.03": "03"})
        await poll.poll_once(s.runtime)  # same content: re-validated, mappings now found
        assert "UNMAPPED_VENDOR" not in await _open_exceptions(s)
        assert "UNMAPPED_WAREHOUSE" not in await _open_exceptions(s)


async def test_unknown_status_is_unmapped_status(tmp_path: Path, database_url: str | None) -> None:
    async with stack(tmp_path, database_url) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        (a,) = s.buyable_items(1)
        create_po(s, skus=[(a, 1)], status="ordered")  # a custom status we have no type for
        await poll.poll_once(s.runtime)
        assert "UNMAPPED_STATUS" in await _open_exceptions(s)


async def test_manual_approval_dry_run_approve_and_invalid_transitions(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url, approval="manual") as s:
        read, write = await api_key(s.runtime, "read"), await api_key(s.runtime, "write")
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        a, b = s.buyable_items(2)
        po_id = create_po(s, skus=[(a, 3), (b, 5)])
        await poll.poll_once(s.runtime)
        (rec,) = _list(s, read, status="validated")["items"]
        url = f"{s.api_url}/recommendations/{rec['id']}"
        assert httpx.post(url + "/approve", headers=read).status_code == 403
        dry = httpx.post(url + "/approve", params={"dry_run": "true"}, headers=write).json()
        (doc,) = dry["documents"]
        assert doc["entity"] == "PurchaseOrders" and doc["ext_ref"] == f"ip:{po_id}"
        assert [line["WarehouseCode"] for line in doc["body"]["DocumentLines"]] == ["01", "01"]
        assert httpx.get(url, headers=read).json()["status"] == "validated"  # the dry run changed nothing
        assert httpx.post(url + "/approve", headers=write).json()["status"] == "queued"
        assert httpx.post(url + "/approve", headers=write).status_code == 409
        await s.drain()
        detail = httpx.get(url, headers=read).json()
        assert detail["status"] == "posted" and detail["documents"][0]["doc_entry"]
        assert detail["attempts"] and len(detail["lines"]) == 2
        assert httpx.post(url + "/reject", headers=write).status_code == 409


async def test_filters_and_cursor_pagination(tmp_path: Path, database_url: str | None) -> None:
    async with stack(tmp_path, database_url, approval="manual") as s:
        read = await api_key(s.runtime, "read")
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        skus = s.buyable_items(3)
        for sku in skus:
            create_po(s, skus=[(sku, 1)])
        await poll.poll_once(s.runtime)
        first = _list(s, read, limit=2)
        second = _list(s, read, limit=2, cursor=first["next_cursor"])
        assert len(first["items"]) == 2 and len(second["items"]) == 1 and second["next_cursor"] is None
        assert len(_list(s, read, sku=skus[0])["items"]) == 1
        assert len(_list(s, read, vendor="V10000")["items"]) == 3


async def test_a_newer_version_supersedes_an_unposted_one(tmp_path: Path, database_url: str | None) -> None:
    async with stack(tmp_path, database_url, approval="manual") as s:
        read = await api_key(s.runtime, "read")
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        (a,) = s.buyable_items(1)
        po_id = create_po(s, skus=[(a, 1)])
        await poll.poll_once(s.runtime)
        line_id = s.ip_store.get_purchase_order(po_id)["items"][0]["id"]
        s.ip_store.edit_purchase_order(po_id, {"items": [{"id": line_id, "replenishment": 7}]})
        await poll.poll_once(s.runtime)
        items = sorted(_list(s, read, ip_po_id=po_id)["items"], key=lambda r: r["version"])
        assert [(r["version"], r["status"]) for r in items] == [(1, "superseded"), (2, "validated")]


async def test_make_items_become_production_orders_and_requests_when_configured(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url, document_type="purchase_request") as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        (a,) = s.buyable_items(1)
        make = sorted(
            r["ItemCode"]
            for r in s.sap_store.tables["Items"].rows.values()
            if r.get("ProcurementMethod") == "bom_Make" and r["Valid"] == "tYES" and r["Frozen"] == "tNO"
        )[0]
        create_po(s, skus=[(a, 2), (make, 3)])
        await poll.poll_once(s.runtime)
        await s.drain()
        created = s.sap_stats()["documents_created"]
        assert created == {"PurchaseRequests": 1, "ProductionOrders": 1}

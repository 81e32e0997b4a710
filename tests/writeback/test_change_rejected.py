"""A newer IP PO version after SAP's PO was closed or partly received: the change is refused as a
DOCUMENT_CHANGE_REJECTED exception and nothing is patched (the emulators over real HTTP)."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.db.session import session_scope
from app.integrations.sap_b1.client import SapB1Client
from app.models.exception import BusinessException
from app.models.recommendation import Recommendation
from app.models.writeback import SapWrite
from tests.writeback.harness import TOKEN, Stack, create_po, seed_mappings, stack

pytestmark = pytest.mark.asyncio


def _deliver(s: Stack, po_id: str, last_modified: str) -> None:
    hint = {"purchase-order": {"id": po_id, "last_modified": last_modified}}
    assert httpx.post(f"{s.api_url}/webhooks/inventory-planner/{TOKEN}", json=hint).status_code == 202


async def _close(s: Stack, doc_entry: int) -> None:
    async with SapB1Client(s.settings.sap) as sap:
        await sap.action(f"PurchaseOrders({doc_entry})/Close")


async def _receive_part_of_line_0(s: Stack, doc_entry: int) -> None:
    """A goods receipt PO (GRPO) for 1 of the first line's 4, copying the PO line (BaseType 22)."""
    body = {
        "CardCode": "V10000",
        "DocumentLines": [{"BaseType": 22, "BaseEntry": doc_entry, "BaseLine": 0, "Quantity": 1}],
    }
    async with SapB1Client(s.settings.sap) as sap:
        await sap.create("PurchaseDeliveryNotes", body)


async def _rows(s: Stack, table: type) -> list:  # type: ignore[type-arg]
    async with session_scope(s.runtime.sessionmaker) as session:
        return list((await session.exec(select(table))).all())


def _patches(s: Stack) -> int:
    return sum(n for route, n in s.sap_stats()["requests_by_route"].items() if route.startswith("PATCH "))


@pytest.mark.parametrize(
    ("change_in_sap", "reason"),
    [(_close, "is closed in SAP"), (_receive_part_of_line_0, "is partly received in SAP")],
    ids=["closed", "partly-received"],
)
async def test_a_newer_version_of_a_po_sap_no_longer_allows_to_change_is_rejected(
    tmp_path: Path,
    database_url: str | None,
    change_in_sap: Callable[[Stack, int], Awaitable[None]],
    reason: str,
) -> None:
    async with stack(tmp_path, database_url) as s:
        await seed_mappings(s.runtime, {"v10000": "V10000"}, {"c123_csv.01": "01"})
        a, b = s.buyable_items(2)
        po_id = create_po(s, skus=[(a, 4), (b, 6)])
        _deliver(s, po_id, "2031-01-01T00:00:00Z")
        await s.drain()
        (posted,) = await _rows(s, SapWrite)
        assert posted.status == "posted" and posted.doc_entry is not None

        await change_in_sap(s, posted.doc_entry)
        before = copy.deepcopy(s.sap_store.tables["PurchaseOrders"].rows[posted.doc_entry])
        line_ids = [item["id"] for item in s.ip_store.get_purchase_order(po_id)["items"]]
        s.ip_store.edit_purchase_order(
            po_id,
            {"items": [{"id": line_ids[0], "replenishment": 9}, {"id": line_ids[1], "replenishment": 6}]},
        )
        _deliver(s, po_id, "2031-01-02T00:00:00Z")
        await s.drain()

        newer = max(await _rows(s, Recommendation), key=lambda r: r.version)
        # "rejected" on a recommendation is a person's decision (final); SAP refusing it fails it.
        assert newer.version == 2 and newer.status == "failed"
        update = next(w for w in await _rows(s, SapWrite) if w.id != posted.id)
        assert update.status == "rejected" and update.doc_entry in (None, posted.doc_entry)
        (exception,) = [e for e in await _rows(s, BusinessException) if e.type == "DOCUMENT_CHANGE_REJECTED"]
        assert exception.status == "open" and reason in (exception.message or "")
        assert exception.subject == {"document": posted.ext_ref}
        # Nothing patched: SAP's document is as the close / the receipt left it, and still the only one.
        assert _patches(s) == 0
        assert s.sap_store.tables["PurchaseOrders"].rows[posted.doc_entry] == before
        assert s.sap_stats()["documents_created"].get("PurchaseOrders") == 1

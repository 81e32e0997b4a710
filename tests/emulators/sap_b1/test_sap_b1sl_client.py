"""A third-party Service Layer client (b1sl-python) against the emulator: proof that it speaks
Service Layer, not only our own client's dialect."""

from __future__ import annotations

import pytest

from app.emulators.sap_b1 import EmulatorConfig, create_app
from tests.support.server import serve

b1sl = pytest.importorskip("b1sl.b1sl")


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_b1sl_logs_in_pages_items_and_creates_a_purchase_order(version):
    app = create_app(EmulatorConfig(items=45, login_delay_ms=0))
    store = app.state.sap
    buyable = next(
        r
        for r in store.table("Items").rows.values()
        if r["Valid"] == "tYES"
        and r["Frozen"] == "tNO"
        and r["PurchaseItem"] == "tYES"
        and r["InventoryItem"] == "tYES"
    )
    from b1sl.b1sl import entities as en

    with serve(app) as url:
        config = b1sl.B1Config(
            base_url=url, username="manager", password="demo-password", company_db="SBODEMOUS"
        )
        with b1sl.B1Client(config, version=version) as client:
            items = list(client.items.stream(page_size=20))  # 3 pages via nextLink
            assert [i.item_code for i in items] == store.table("Items").keys
            assert items[0].item_warehouse_info_collection[0].warehouse_code == "01"
            line = en.DocumentLine(item_code=buyable["ItemCode"], quantity=3, warehouse_code="02")
            order = en.Document(card_code="V10000", doc_due_date="2030-01-01", document_lines=[line])
            created = client.purchase_orders.create(order)
            fetched = client.purchase_orders.get(created.doc_entry)
            assert fetched.document_lines[0].warehouse_code == "02"
    assert store.stats.documents_created["PurchaseOrders"] == 1
    assert store.stats.requests["POST Login"] == 1

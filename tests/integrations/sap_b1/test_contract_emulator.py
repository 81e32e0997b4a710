"""The same client, over real HTTP, against the bundled Service Layer emulator on both roots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from app.config import SapB1Settings
from app.emulators.sap_b1.app import create_app
from app.emulators.sap_b1.config import EmulatorConfig
from app.integrations.sap_b1.client import SapB1Client
from app.integrations.sap_b1.errors import (
    SapAuthError,
    SapLocked,
    SapNotFound,
    SapOutcomeUnknown,
    SapPeriodLocked,
)
from app.integrations.sap_b1.periods import PeriodStatus, load_periods
from app.integrations.sap_b1.query import F
from app.integrations.sap_b1.setup import REQUIRED_TABLES, ensure_ext_ref, ext_ref_status
from tests.support.server import serve

ITEMS = 57
WAREHOUSES = 3


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    config = EmulatorConfig(items=ITEMS, warehouses=WAREHOUSES, login_delay_ms=0)
    with serve(create_app(config)) as url:
        yield url


@pytest.fixture(params=["v1", "v2"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _settings(emulator: str, version: str, **overrides: Any) -> SapB1Settings:
    values: dict[str, Any] = {"base_url": f"{emulator}/b1s/{version}", "password": "demo-password",
                              "page_size": 10, **overrides}
    return SapB1Settings(**values)


async def _short_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.01))  # real waits, test-sized backoff


@pytest.fixture
async def client(emulator: str, version: str) -> AsyncIterator[SapB1Client]:
    async with SapB1Client(_settings(emulator, version), sleep=_short_sleep) as client:
        yield client


async def _admin(emulator: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=emulator) as http:
        response = await http.post(f"/_emulator/{path}", json=body or {})
        response.raise_for_status()
        return response.json()


async def test_login_and_page_all_items_with_warehouse_rows(client: SapB1Client) -> None:
    select = {"$select": "ItemCode,ItemWarehouseInfoCollection"}
    rows = [r async for r in client.iter_entities("Items", select)]
    assert len(rows) == ITEMS and len({r["ItemCode"] for r in rows}) == ITEMS
    assert all(len(r["ItemWarehouseInfoCollection"]) == WAREHOUSES for r in rows)
    first_row = rows[0]["ItemWarehouseInfoCollection"][0]
    assert {"WarehouseCode", "InStock", "Committed", "Ordered"} <= set(first_row)


async def test_keyset_paging_sees_every_item_once(client: SapB1Client) -> None:
    codes = [r["ItemCode"] async for page in client.iter_keyset("Items", key="ItemCode",
                                                                  select=["ItemCode"]) for r in page]
    assert codes == sorted(codes) and len(codes) == ITEMS


async def test_typed_items_and_warehouses(client: SapB1Client) -> None:
    first = (await client.find("Items", None, select=["ItemCode"], top=1))[0]["ItemCode"]
    item = await client.items.get(first)
    assert item.item_code == first and len(item.item_warehouse_info_collection) == WAREHOUSES
    warehouses = await client.warehouses.list_all()
    assert len(warehouses) >= WAREHOUSES and all(w.warehouse_code for w in warehouses)


async def test_filters_with_quotes_are_escaped_not_injected(client: SapB1Client) -> None:
    assert await client.find("Items", F("ItemCode") == "x' or ItemCode ne 'x") == []
    some = (await client.find("Items", None, select=["ItemCode"], top=1))[0]["ItemCode"]
    found = await client.find("Items", F("ItemCode").startswith(some[:3]) & (F("ItemCode") == some))
    assert [r["ItemCode"] for r in found] == [some]


async def test_missing_item_is_not_found(client: SapB1Client) -> None:
    with pytest.raises(SapNotFound):
        await client.items.get("NO-SUCH-ITEM")


async def test_bad_password_fails_fast(emulator: str, version: str) -> None:
    async with SapB1Client(_settings(emulator, version, password="wrong")) as client:
        with pytest.raises(SapAuthError) as info:
            await client.login()
    assert info.value.sap_code in (-304, -306) and "wrong" not in repr(info.value.problem())


async def _setup_udf(client: SapB1Client, emulator: str) -> None:
    await ensure_ext_ref(client)
    await _admin(emulator, "restart")


async def test_setup_creates_the_udf_then_status_is_ok(client: SapB1Client, emulator: str) -> None:
    await _setup_udf(client, emulator)
    status = await ext_ref_status(client)
    assert status.ok, status.detail
    again = await ensure_ext_ref(client)
    assert again.created == [] and sorted(again.present) == sorted(REQUIRED_TABLES)


async def _open_date(client: SapB1Client) -> date:
    periods = await load_periods(client)
    day = periods.first_open_date_on_or_after(date.today())
    assert day is not None
    return day


async def test_create_po_read_it_back_and_find_by_ext_ref(client: SapB1Client, emulator: str,
                                                          version: str) -> None:
    await _setup_udf(client, emulator)
    item = (await client.find("Items", F("PurchaseItem") == True, select=["ItemCode"], top=1))[0]  # noqa: E712
    vendor = (await client.find("BusinessPartners", F("CardType") == "cSupplier", select=["CardCode"]))[0]
    warehouse = (await client.warehouses.list_all())[0].warehouse_code
    ref = f"contract-{version}-{date.today().isoformat()}-{id(client)}"
    created = await client.purchase_orders.create({
        "CardCode": vendor["CardCode"], "DocDate": (await _open_date(client)).isoformat(),
        "DocDueDate": (date.today() + timedelta(days=30)).isoformat(), client.settings.ext_ref_udf: ref,
        "DocumentLines": [{"ItemCode": item["ItemCode"], "Quantity": 3, "WarehouseCode": warehouse}]})
    po = created.entity
    assert po.doc_entry and po.doc_num and created.etag
    back = await client.purchase_orders.get(po.doc_entry)
    assert back.document_lines[0].item_code == item["ItemCode"] and back.etag
    found = await client.purchase_orders.find_by_ext_ref(ref)
    assert found is not None and found.doc_entry == po.doc_entry
    await client.purchase_orders.patch(po.doc_entry, {"Comments": "checked"}, etag=back.etag)


async def test_posting_in_a_locked_period_is_period_locked(client: SapB1Client) -> None:
    periods = await load_periods(client)
    locked = next(p for p in periods.periods if p.status is PeriodStatus.locked)
    item = (await client.find("Items", F("InventoryItem") == True, select=["ItemCode"], top=1))[0]  # noqa: E712
    warehouse = (await client.warehouses.list_all())[0].warehouse_code
    with pytest.raises(SapPeriodLocked):
        await client.goods_receipts.create({
            "DocDate": locked.posting_date_from.isoformat(),
            "DocumentLines": [{"ItemCode": item["ItemCode"], "Quantity": 1, "WarehouseCode": warehouse}]})


async def test_periods_cover_today_and_report_the_locked_one(client: SapB1Client) -> None:
    periods = await load_periods(client)
    assert periods.period_for(date.today()) is not None
    locked = [p for p in periods.periods if p.status is PeriodStatus.locked]
    assert locked and periods.first_open_date_on_or_after(locked[0].posting_date_from) == (
        locked[0].posting_date_to + timedelta(days=1))


async def test_session_expiry_causes_one_relogin_for_concurrent_reads(client: SapB1Client,
                                                                       emulator: str) -> None:
    first = (await client.find("Items", None, select=["ItemCode"], top=1))[0]["ItemCode"]
    logins = client.sessions.logins
    await _admin(emulator, "sessions/expire")
    items = await asyncio.gather(*(client.items.get(first) for _ in range(20)))
    assert len(items) == 20 and client.sessions.logins == logins + 1


async def _receipt(client: SapB1Client, ref: str) -> dict[str, Any]:
    item = (await client.find("Items", F("InventoryItem") == True, select=["ItemCode"], top=1))[0]  # noqa: E712
    warehouse = (await client.warehouses.list_all())[0].warehouse_code
    return {"DocDate": (await _open_date(client)).isoformat(), client.settings.ext_ref_udf: ref,
            "DocumentLines": [{"ItemCode": item["ItemCode"], "Quantity": 1, "WarehouseCode": warehouse}]}


async def test_a_lost_write_response_is_outcome_unknown_and_the_ext_ref_finds_it(
        client: SapB1Client, emulator: str, version: str) -> None:
    await _setup_udf(client, emulator)
    ref = f"lost-{version}-{id(client)}"
    body = await _receipt(client, ref)
    await _admin(emulator, "faults", {"reset": True, "commit_then_drop_rate": 1.0})
    try:
        with pytest.raises(SapOutcomeUnknown):
            await client.goods_receipts.create(body)
    finally:
        await _admin(emulator, "faults", {"reset": True})
    found = await client.goods_receipts.find_by_ext_ref(ref)
    assert found is not None and found.doc_entry


async def test_injected_deadlock_on_a_write_is_retryable_and_sent_once(
        client: SapB1Client, emulator: str, version: str) -> None:
    body = await _receipt(client, f"deadlock-{version}-{id(client)}")
    await _admin(emulator, "faults", {"reset": True, "deadlock_rate": 1.0})
    try:
        with pytest.raises(SapLocked) as info:
            await client.goods_receipts.create(body)
    finally:
        await _admin(emulator, "faults", {"reset": True})
    assert info.value.retryable and info.value.sap_code == -2038


async def test_reads_ride_out_proxy_errors(client: SapB1Client, emulator: str) -> None:
    await _admin(emulator, "faults", {"reset": True, "error_5xx_rate": 0.3, "seed": 7})
    try:
        rows = [r async for r in client.iter_entities("Items", {"$select": "ItemCode"})]
    finally:
        await _admin(emulator, "faults", {"reset": True})
    assert len(rows) == ITEMS

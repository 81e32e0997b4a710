"""Typed entity helpers, posting periods and UDF setup over a scripted Service Layer."""

from __future__ import annotations

import json
from datetime import date

import httpx

from app.integrations.sap_b1.periods import FinancePeriod, PeriodStatus, PostingPeriods, load_periods
from app.integrations.sap_b1.schemas import Document, DocumentLine
from app.integrations.sap_b1.setup import REQUIRED_TABLES, ensure_ext_ref, ext_ref_status

from .fakes import FakeSL

ITEM = {"ItemCode": "A1", "ItemName": "Widget", "Valid": "tYES", "UpdateDate": "2025-05-13T00:00:00Z",
        "ItemWarehouseInfoCollection": [{"WarehouseCode": "01", "InStock": 12.0, "Committed": 2.0,
                                         "Ordered": 5.0, "U_Bin": "x"}]}


async def test_item_with_warehouse_rows_is_typed() -> None:
    fake = FakeSL()
    fake.route("GET", "Items('A1')")(lambda r: httpx.Response(200, json=ITEM, headers={"ETag": 'W/"1"'}))
    async with fake.client() as client:
        item = await client.items.get("A1")
    assert item.etag == 'W/"1"' and item.update_date == date(2025, 5, 13)
    row = item.item_warehouse_info_collection[0]
    assert (row.warehouse_code, row.available, row.ordered) == ("01", 10.0, 5.0)


async def test_create_po_from_a_model_posts_sap_names_only() -> None:
    fake = FakeSL()
    posted: list[dict] = []

    def create(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return httpx.Response(201, json={**posted[-1], "DocEntry": 3, "DocNum": 103},
                              headers={"ETag": 'W/"e"'})

    fake.route("POST", "PurchaseOrders")(create)
    po = Document(card_code="V1", doc_due_date=date(2025, 7, 1), U_B1B_ExtRef="ip-9",
                  document_lines=[DocumentLine(item_code="A1", quantity=4, warehouse_code="01")])
    async with fake.client() as client:
        created = await client.purchase_orders.create(po)
    assert posted == [{"CardCode": "V1", "DocDueDate": "2025-07-01", "U_B1B_ExtRef": "ip-9",
                       "DocumentLines": [{"ItemCode": "A1", "Quantity": 4.0, "WarehouseCode": "01"}]}]
    assert created.entity.doc_entry == 3 and created.entity.doc_num == 103 and created.etag == 'W/"e"'


async def test_find_by_ext_ref_filters_on_the_configured_udf() -> None:
    fake = FakeSL()
    filters: list[str] = []

    def search(request: httpx.Request) -> httpx.Response:
        filters.append(request.url.params["$filter"])
        return httpx.Response(200, json={"value": [{"DocEntry": 3, "DocNum": 103}]})

    fake.route("GET", "InventoryGenEntries")(search)
    async with fake.client(ext_ref_udf="U_MyRef") as client:
        found = await client.goods_receipts.find_by_ext_ref("adj-'1")
    assert found is not None and found.doc_entry == 3
    assert filters == ["U_MyRef eq 'adj-''1'"]


def _period(entry: int, start: str, end: str, status: str) -> dict:
    return {"AbsoluteEntry": entry, "PeriodCode": start[:7], "PeriodStatus": status,
            "PostingDateFrom": start, "PostingDateTo": end}


async def test_periods_are_loaded_from_the_company_service() -> None:
    fake = FakeSL(version="v1")
    fake.route("GET", "CompanyService_GetPeriods")(
        lambda r: httpx.Response(200, json={"value": [{"AbsoluteEntry": 1}, {"AbsoluteEntry": 2}]}))

    def finance(request: httpx.Request) -> httpx.Response:
        category = json.loads(request.content)["PeriodCategoryParams"]["AbsoluteEntry"]
        rows = {1: [_period(1, "2025-01-01", "2025-01-31", "ltLocked")],
                2: [_period(2, "2025-02-01", "2025-02-28", "ltUnlocked")]}[category]
        return httpx.Response(200, json={"value": rows})

    fake.route("POST", "CompanyService_GetFinancePeriods")(finance)
    async with fake.client() as client:
        periods = await load_periods(client)
    locked = periods.period_for(date(2025, 1, 15))
    assert locked is not None and locked.status is PeriodStatus.locked and locked.category == 1
    assert periods.first_open_date_on_or_after(date(2025, 1, 15)) == date(2025, 2, 1)


def test_first_open_date_skips_locked_and_closing_periods() -> None:
    periods = PostingPeriods([
        FinancePeriod.model_validate(_period(3, "2025-03-01", "2025-03-31", "ltPeriodClosing")),
        FinancePeriod.model_validate(_period(1, "2025-01-01", "2025-01-31", "ltUnlockedExceptSales")),
        FinancePeriod.model_validate(_period(2, "2025-02-01", "2025-02-28", "3")),
    ])
    assert periods.first_open_date_on_or_after(date(2025, 1, 10)) == date(2025, 1, 10)
    assert periods.first_open_date_on_or_after(date(2025, 2, 10)) is None
    assert periods.is_open(date(2025, 1, 31)) and not periods.is_open(date(2025, 2, 1))
    assert periods.period_for(date(2024, 12, 31)) is None


async def test_setup_creates_the_udf_where_missing_and_status_reports_it() -> None:
    fake = FakeSL()
    fields = [{"Name": "B1B_ExtRef", "TableName": "OPOR"}]

    def listing(request: httpx.Request) -> httpx.Response:
        assert request.url.params["$filter"] == "Name eq 'B1B_ExtRef'"
        return httpx.Response(200, json={"value": list(fields)})

    def create(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["Type"] == "db_Alpha" and body["Size"] == 50 and body["Name"] == "B1B_ExtRef"
        fields.append(body)
        return httpx.Response(201, json=body)

    fake.route("GET", "UserFieldsMD")(listing)
    fake.route("POST", "UserFieldsMD")(create)
    async with fake.client() as client:
        before = await ext_ref_status(client)
        result = await ensure_ext_ref(client)
        after = await ext_ref_status(client)
    assert not before.ok and before.missing == [t for t in REQUIRED_TABLES if t != "OPOR"]
    assert result.created == before.missing and result.present == ["OPOR"] and result.restart_required
    assert after.ok and after.missing == []

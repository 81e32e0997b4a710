"""Queries (reference §4, §14.4): the $filter parser and the other options, over HTTP."""

from __future__ import annotations

import pytest

from app.emulators.sap_b1 import schema
from app.emulators.sap_b1.errors import SLError
from app.emulators.sap_b1.odata_filter import compile_filter
from tests.emulators.sap_b1.conftest import first_item


def _resolve(name):
    if name in schema.ITEMS.fields:
        return schema.ITEMS.fields[name], schema.ITEMS.enums.get(name, {})
    raise SLError(400, -1000, name)


def _matches(text, row):
    return compile_filter(text, _resolve, "ItemCode").predicate(row)


ROW = {
    "ItemCode": "A'1",
    "ItemName": "Big Bolt",
    "Valid": "tYES",
    "AvgStdPrice": 12.5,
    "UpdateDate": "2025-04-23",
    "UpdateTime": "18:38:42",
    "Mainsupplier": None,
}


@pytest.mark.parametrize(
    "text",
    [
        "ItemCode eq 'A''1'",
        "AvgStdPrice gt 12 and AvgStdPrice le 12.5",
        "not (AvgStdPrice lt 10)",
        "Valid eq 'tYES'",
        "Valid eq 'Y'",
        "Mainsupplier eq null",
        "ItemName ne null",
        "startswith(ItemName,'Big') and endswith(ItemName,'Bolt') and contains(ItemName,'g B')",
        "substringof('Bol',ItemName)",
        "(Valid eq 'N' or AvgStdPrice eq 12.5) and ItemCode ge 'A'",
        "UpdateDate eq '2025-04-23'",
        "UpdateDate eq '20250423'",
        "UpdateDate eq datetime'2025-04-23'",
        "UpdateDate eq '2025-04-23T12:21:21'",
        "UpdateTime eq '18:38'",
        "UpdateTime eq '18:38:00'",
        "UpdateTime eq '1838'",
        "UpdateTime ge '18:38:59'",
        "UpdateDate gt '2025-04-22' or (UpdateDate eq '2025-04-23' and UpdateTime ge '18:38')",
        "12 lt AvgStdPrice",
    ],
)
def test_filters_that_match(text):
    assert _matches(text, ROW)


@pytest.mark.parametrize(
    "text",
    [
        "UpdateTime gt '18:38'",
        "Valid eq 'tNO'",
        "ItemCode eq 'A1'",
        "Mainsupplier ne null",
        "UpdateDate lt '2025-04-23'",
    ],
)
def test_filters_that_do_not_match(text):
    assert not _matches(text, ROW)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Nope eq 1", -1000),
        ("ItemCode eq", 201),
        ("ItemCode eq 'x' and", 201),
        ("ItemCode ~ 'x'", 201),
        ("(ItemCode eq 'x'", 201),
        ("Valid eq 'maybe'", -1000),
    ],
)
def test_bad_filters(text, code):
    with pytest.raises(SLError) as caught:
        _matches(text, ROW)
    assert caught.value.code == code


def test_key_bound_is_extracted_only_from_top_level_conjunctions():
    assert compile_filter("ItemCode gt 'A5' and Valid eq 'Y'", _resolve, "ItemCode").key_bound == ("gt", "A5")
    assert compile_filter("ItemCode gt 'A5' or Valid eq 'Y'", _resolve, "ItemCode").key_bound is None


def test_filter_select_orderby_over_http(sap):
    response = sap.get(
        "Items",
        params={
            "$filter": "Valid eq 'tNO'",
            "$select": "ItemCode,Valid",
            "$orderby": "ItemsGroupCode desc,ItemCode",
        },
    )
    rows = response.json()["value"]
    assert rows and all(set(r) == {"@odata.etag", "ItemCode", "Valid"} and r["Valid"] == "tNO" for r in rows)


def test_orderby_multiple_keys(sap):
    rows = sap.get(
        "Items",
        params={
            "$select": "ItemCode,ItemsGroupCode",
            "$orderby": "ItemsGroupCode desc,ItemCode",
            "$top": "60",
        },
        headers={"Prefer": "odata.maxpagesize=100"},
    ).json()["value"]
    assert rows == sorted(rows, key=lambda r: (-r["ItemsGroupCode"], r["ItemCode"]))


def test_get_by_key_with_quote_escaping(sap):
    sap.store.insert_item("O'BRIEN")
    response = sap.get("Items('O''BRIEN')")
    assert response.status_code == 200 and response.json()["ItemCode"] == "O'BRIEN"
    assert response.headers["ETag"].startswith('W/"')
    assert sap.get("Items('NOPE')").json()["error"]["code"] == "-2028"


def test_count_endpoint_is_text_plain(sap):
    response = sap.get("Items/$count", params={"$filter": "Valid eq 'tYES'"})
    assert response.headers["content-type"].startswith("text/plain")
    valid = sum(1 for r in sap.store.table("Items").rows.values() if r["Valid"] == "tYES")
    assert int(response.text) == valid


def test_inline_count_both_dialects(sap):
    assert sap.get("Warehouses?$count=true").json()["@odata.count"] == 5
    assert sap.get("Warehouses?$inlinecount=allpages", version="v1").json()["odata.count"] == 5


def test_unknown_property_and_expand_errors(sap):
    bad_select = sap.get("Items?$select=ItemCode,Nope", version="v1")
    assert bad_select.status_code == 400 and bad_select.json()["error"]["code"] == -1000
    expand = sap.get("Items?$expand=ItemWarehouseInfoCollection")
    assert expand.status_code == 400 and expand.json()["error"]["code"] == "201"
    assert sap.get("PurchaseOrders?$expand=DocumentLines").json()["error"]["code"] == "201"


def test_v2_error_envelope_has_details(sap):
    body = sap.get("Items?$filter=Nope eq 1").json()
    assert body == {
        "error": {
            "code": "-1000",
            "message": "Property 'Nope' of 'Item' is invalid",
            "details": [{"code": "", "message": ""}],
        }
    }


def test_version_headers(sap):
    assert sap.get("Warehouses", version="v1").headers["DataServiceVersion"] == "3.0"
    assert sap.get("Warehouses").headers["OData-Version"] == "4.0"


def test_update_time_filters_on_minutes(sap):
    item = first_item(sap)
    sap.store.update_item(item["ItemCode"])
    stamp_date, stamp_time = item["UpdateDate"], item["UpdateTime"][:5]
    rows = sap.get(
        "Items",
        params={
            "$filter": f"UpdateDate eq '{stamp_date.replace('-', '')}' and "
            f"UpdateTime eq '{stamp_time.replace(':', '')}'",
            "$select": "ItemCode",
        },
    ).json()["value"]
    assert {"@odata.etag": rows[0]["@odata.etag"], "ItemCode": item["ItemCode"]} in rows


def test_crossjoin_shape(sap):
    response = sap.get(
        "$crossjoin(Items,Items/ItemWarehouseInfoCollection)",
        params={
            "$expand": "Items($select=ItemCode),"
            "Items/ItemWarehouseInfoCollection($select=WarehouseCode,InStock)",
            "$filter": "Items/ItemCode eq Items/ItemWarehouseInfoCollection/ItemCode",
        },
    )
    body = response.json()
    assert body["value"][0] == {
        "Items": {"ItemCode": "A00001"},
        "Items/ItemWarehouseInfoCollection": {
            "WarehouseCode": "01",
            "InStock": sap.store.table("Items").rows["A00001"]["ItemWarehouseInfoCollection"][0]["InStock"],
        },
    }
    assert body["@odata.nextLink"].endswith("$skip=20")
    assert sap.get("$crossjoin(Items,Items/ItemWarehouseInfoCollection)").json()["error"]["code"] == "-1000"

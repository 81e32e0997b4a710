"""Document writes (reference §3, §7, §9, §10, §11, §14.6–8): validation, stock effects, ETags."""

from __future__ import annotations

from datetime import date

from tests.emulators.sap_b1.conftest import buyable, first_item


def _stock(sl, item_code, whs):
    return dict(sl.store.warehouse_row(sl.store.item(item_code), whs))


def _po(sl, item_code, qty=10.0, whs="02", **extra):
    body = {
        "CardCode": "V10000",
        "DocDueDate": "2030-01-31",
        "DocumentLines": [{"ItemCode": item_code, "Quantity": qty, "UnitPrice": 5, "WarehouseCode": whs}],
        **extra,
    }
    return sl.post("PurchaseOrders", json=body)


def test_po_is_created_with_location_and_raises_ordered(sap):
    item = buyable(sap)["ItemCode"]
    before = _stock(sap, item, "02")["Ordered"]
    response = _po(sap, item)
    assert response.status_code == 201
    doc = response.json()
    assert response.headers["Location"].endswith(f"/b1s/v2/PurchaseOrders({doc['DocEntry']})")
    assert response.headers["ETag"] == doc["@odata.etag"]
    assert doc["DocumentStatus"] == "bost_Open" and doc["DocNum"] >= 1
    assert doc["DocumentLines"][0]["WarehouseCode"] == "02"  # the line's warehouse is honoured
    assert _stock(sap, item, "02")["Ordered"] == before + 10


def test_line_without_warehouse_uses_item_default(sap):
    item = buyable(sap)["ItemCode"]
    body = {
        "CardCode": "V10000",
        "DocDueDate": "2030-01-31",
        "DocumentLines": [{"ItemCode": item, "Quantity": 1}],
    }
    assert sap.post("PurchaseOrders", json=body).json()["DocumentLines"][0]["WarehouseCode"] == "01"


def test_return_no_content(sap):
    response = _po(sap, buyable(sap)["ItemCode"])
    prefer = sap.post(
        "PurchaseOrders",
        json={
            "CardCode": "V10000",
            "DocDueDate": "2030-01-31",
            "DocumentLines": [{"ItemCode": buyable(sap)["ItemCode"], "Quantity": 1}],
        },
        headers={"Prefer": "return-no-content"},
    )
    assert response.status_code == 201
    assert (
        prefer.status_code == 204
        and prefer.content == b""
        and "PurchaseOrders(" in prefer.headers["Location"]
    )


def test_validation_errors(sap):
    item = buyable(sap)["ItemCode"]
    no_due = sap.post(
        "PurchaseOrders", json={"CardCode": "V10000", "DocumentLines": [{"ItemCode": item, "Quantity": 1}]}
    )
    assert no_due.status_code == 400
    inactive = first_item(sap, Valid="tNO")["ItemCode"]
    assert "inactive" in _po(sap, inactive).json()["error"]["message"]
    frozen = first_item(sap, Valid="tYES", Frozen="tYES")["ItemCode"]
    assert _po(sap, frozen).json()["error"] == {
        "code": "-10",
        "message": f"Item '{frozen}' is frozen [DocumentLines.ItemCode][line: 1]",
        "details": [{"code": "", "message": ""}],
    }
    assert (
        "Warehouse '05' is inactive" in _po(sap, item, whs="05").json()["error"]["message"]
    )  # 05 is inactive
    assert "Quantity" in _po(sap, item, qty=0).json()["error"]["message"]
    assert _po(sap, item, CardCode="V99999").json()["error"]["code"] == "-10"


def test_grpo_against_po_moves_stock_and_closes_the_po(sap):
    item = buyable(sap)["ItemCode"]
    po = _po(sap, item, qty=10).json()
    before = _stock(sap, item, "02")
    grpo = {
        "CardCode": "V10000",
        "DocumentLines": [{"BaseType": 22, "BaseEntry": po["DocEntry"], "BaseLine": 0, "Quantity": 4}],
    }
    assert sap.post("PurchaseDeliveryNotes", json=grpo).status_code == 201
    after = _stock(sap, item, "02")
    assert (after["InStock"], after["Ordered"]) == (before["InStock"] + 4, before["Ordered"] - 4)
    line = sap.get(f"PurchaseOrders({po['DocEntry']})").json()["DocumentLines"][0]
    assert line["RemainingOpenQuantity"] == 6
    grpo["DocumentLines"][0]["Quantity"] = 6
    sap.post("PurchaseDeliveryNotes", json=grpo)
    assert sap.get(f"PurchaseOrders({po['DocEntry']})").json()["DocumentStatus"] == "bost_Close"


def test_goods_receipt_issue_and_negative_inventory(sap):
    item = buyable(sap)["ItemCode"]
    sap.store.set_stock(item, "01", in_stock=3)
    gr = sap.post(
        "InventoryGenEntries",
        json={"DocumentLines": [{"ItemCode": item, "Quantity": 2, "WarehouseCode": "01"}]},
    )
    assert gr.status_code == 201 and _stock(sap, item, "01")["InStock"] == 5
    lines = [
        {"ItemCode": item, "Quantity": 1, "WarehouseCode": "01"},
        {"ItemCode": item, "Quantity": 9, "WarehouseCode": "01"},
    ]
    issue = sap.post("InventoryGenExits", json={"DocumentLines": lines}, version="v1")
    assert issue.status_code == 400
    assert issue.json()["error"] == {
        "code": -10,
        "message": {
            "lang": "en-us",
            "value": "Quantity falls into negative inventory [DocumentLines.ItemCode][line: 2]",
        },
    }
    assert _stock(sap, item, "01")["InStock"] == 5  # nothing committed


def test_stock_transfer_moves_between_warehouses(sap):
    item = buyable(sap)["ItemCode"]
    sap.store.set_stock(item, "01", in_stock=10)
    sap.store.set_stock(item, "02", in_stock=0)
    body = {
        "FromWarehouse": "01",
        "ToWarehouse": "02",
        "StockTransferLines": [{"ItemCode": item, "Quantity": 4}],
    }
    response = sap.post("StockTransfers", json=body)
    assert response.status_code == 201 and "ETag" not in response.headers
    assert (_stock(sap, item, "01")["InStock"], _stock(sap, item, "02")["InStock"]) == (6, 4)


def test_locked_period_and_date_outside_all_periods(sap):
    locked = next(p for p in sap.store.periods if p["PeriodStatus"] == "ltLocked")
    item = buyable(sap)["ItemCode"]
    response = _po(sap, item, DocDate=locked["PostingDateFrom"])
    assert response.status_code == 400 and response.json()["error"]["code"] == "-4013"
    assert response.json()["error"]["message"] == "Posting period locked; specify an alternative date"
    assert _po(sap, item, DocDate="1999-01-01").json()["error"]["code"] == "-5002"
    sap.store.set_period_status(locked["PeriodCode"], "ltUnlocked")
    assert _po(sap, item, DocDate=locked["PostingDateFrom"]).status_code == 201


def test_period_actions(sap):
    categories = sap.get("CompanyService_GetPeriods").json()["value"]
    periods = sap.post(
        "CompanyService_GetFinancePeriods",
        json={"PeriodCategoryParams": {"AbsoluteEntry": categories[-1]["AbsoluteEntry"]}},
    ).json()["value"]
    one = sap.post(
        "CompanyService_GetFinancePeriod",
        json={"FinancePeriodParams": {"AbsoluteEntry": periods[0]["AbsoluteEntry"]}},
    ).json()
    assert (
        one["PeriodStatus"] in {"ltUnlocked", "ltLocked"} and one["PostingDateFrom"] <= one["PostingDateTo"]
    )
    this_month = date.today().strftime("%Y-%m")
    assert any(p["PeriodCode"] == this_month for p in sap.store.periods)


def test_etag_412_on_stale_if_match_and_non_weak_values_ignored(sap):
    po = _po(sap, buyable(sap)["ItemCode"]).json()
    path = f"PurchaseOrders({po['DocEntry']})"
    first = sap.patch(path, json={"Comments": "one"}, headers={"If-Match": po["@odata.etag"]})
    assert first.status_code == 204 and first.headers["ETag"] != po["@odata.etag"]
    stale = sap.patch(path, json={"Comments": "two"}, headers={"If-Match": po["@odata.etag"]})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "-2039"
    assert sap.patch(path, json={"Comments": "three"}, headers={"If-Match": '"whatever"'}).status_code == 204
    assert sap.get(path).json()["Comments"] == "three"


def test_patch_lines_by_linenum_adjusts_ordered(sap):
    item = buyable(sap)["ItemCode"]
    po = _po(sap, item, qty=10).json()
    before = _stock(sap, item, "02")["Ordered"]
    sap.patch(f"PurchaseOrders({po['DocEntry']})", json={"DocumentLines": [{"LineNum": 0, "Quantity": 12}]})
    line = sap.get(f"PurchaseOrders({po['DocEntry']})").json()["DocumentLines"][0]
    assert (line["Quantity"], line["RemainingOpenQuantity"]) == (12, 12)
    assert _stock(sap, item, "02")["Ordered"] == before + 2


def test_delete_po_refused_close_and_cancel(sap):
    item = buyable(sap)["ItemCode"]
    po = _po(sap, item, qty=3).json()
    response = sap.request("DELETE", f"PurchaseOrders({po['DocEntry']})")
    assert response.status_code == 400 and response.json()["error"]["code"] == "-5006"
    before = _stock(sap, item, "02")["Ordered"]
    assert sap.post(f"PurchaseOrders({po['DocEntry']})/Close").status_code == 204
    assert _stock(sap, item, "02")["Ordered"] == before - 3
    cancelled = _po(sap, item).json()
    sap.post(f"PurchaseOrders({cancelled['DocEntry']})/Cancel")
    assert sap.get(f"PurchaseOrders({cancelled['DocEntry']})").json()["Cancelled"] == "tYES"


def test_item_quantities_are_read_only_on_patch(sap):
    item = buyable(sap)
    before = _stock(sap, item["ItemCode"], "01")
    response = sap.patch(
        f"Items('{item['ItemCode']}')",
        json={
            "ItemName": "Renamed",
            "ItemWarehouseInfoCollection": [{"WarehouseCode": "01", "InStock": 999999, "MinimalStock": 3}],
        },
    )
    assert response.status_code == 204
    after = _stock(sap, item["ItemCode"], "01")
    assert after["InStock"] == before["InStock"] and after["MinimalStock"] == 3
    assert sap.store.item(item["ItemCode"])["ItemName"] == "Renamed"


def test_undefined_udf_rejected_until_created(sap):
    item = buyable(sap)["ItemCode"]
    assert _po(sap, item, U_B1B_ExtRef="ip-1").json()["error"]["code"] == "-1000"
    created = sap.post(
        "UserFieldsMD",
        json={
            "Name": "B1B_ExtRef",
            "Type": "db_Alpha",
            "Size": 50,
            "Description": "ext ref",
            "TableName": "OPOR",
        },
    )
    assert created.status_code == 201
    assert _po(sap, item, U_B1B_ExtRef="ip-1").status_code == 201
    # header UDFs of one marketing document table appear on all of them (§10)
    gr = sap.post(
        "InventoryGenEntries",
        json={"U_B1B_ExtRef": "x", "DocumentLines": [{"ItemCode": item, "Quantity": 1}]},
    )
    assert gr.status_code == 201
    found = sap.get(
        "PurchaseOrders", params={"$filter": "U_B1B_ExtRef eq 'ip-1'", "$select": "DocEntry"}
    ).json()
    assert len(found["value"]) == 1
    listed = sap.get(
        "UserFieldsMD", params={"$filter": "TableName eq 'OPOR' and Name eq 'B1B_ExtRef'"}
    ).json()
    assert listed["value"][0]["FieldID"] == 0


def test_udf_visible_only_after_restart_when_configured(start_sap):
    sl = start_sap(visible_after_restart=True)
    item = buyable(sl)["ItemCode"]
    sl.post("UserFieldsMD", json={"Name": "B1B_ExtRef", "Type": "db_Alpha", "Size": 50, "TableName": "OPOR"})
    assert _po(sl, item, U_B1B_ExtRef="a").status_code == 400
    sl.control("POST", "/restart")
    assert _po(sl, item, U_B1B_ExtRef="a").status_code == 201


def test_duplicate_external_references_are_counted(start_sap):
    sl = start_sap(seed_ext_ref_udf=True)
    item = buyable(sl)["ItemCode"]
    for ref in ("r1", "r2", "r1"):
        assert _po(sl, item, U_B1B_ExtRef=ref).status_code == 201
    stats = sl.control("GET", "/stats").json()
    assert stats["documents_created"]["PurchaseOrders"] == 3
    assert stats["duplicates_by_ext_ref"] == {"PurchaseOrders": 1}


def test_documents_are_readable_since_a_watermark(sap):
    _po(sap, buyable(sap)["ItemCode"])
    today = date.today().isoformat()
    rows = sap.get(
        "PurchaseOrders", params={"$filter": f"UpdateDate ge '{today}'", "$select": "DocEntry,UpdateTime"}
    )
    assert len(rows.json()["value"]) == 1


def test_purchase_request_and_production_order(sap):
    item = buyable(sap)["ItemCode"]
    pr = sap.post(
        "PurchaseRequests",
        json={
            "RequriedDate": "2030-01-01",
            "DocumentLines": [{"ItemCode": item, "LineVendor": "V10000", "Quantity": 10}],
        },
    )
    assert pr.status_code == 201 and pr.json()["RequriedDate"] == "2030-01-01"
    assert sap.request("DELETE", f"PurchaseRequests({pr.json()['DocEntry']})").status_code == 204
    make = first_item(sap, ProcurementMethod="bom_Make", Valid="tYES", Frozen="tNO")["ItemCode"]
    wo = sap.post("ProductionOrders", json={"ItemNo": make, "PlannedQuantity": 100, "DueDate": "2030-07-05"})
    assert wo.status_code == 201 and wo.json()["ProductionOrderStatus"] == "boposPlanned"
    assert sap.get(f"ProductionOrders({wo.json()['AbsoluteEntry']})").json()["ItemNo"] == make

"""Paging (reference §5, §14.3): default 20, maxpagesize, relative nextLinks, live offsets."""

from __future__ import annotations


def test_default_page_is_20_with_relative_next_link(sap):
    body = sap.get("Items?$select=ItemCode").json()
    assert len(body["value"]) == 20
    assert body["@odata.nextLink"] == "Items?$select=ItemCode&$skip=20"


def test_maxpagesize_is_honoured_and_echoed(sap):
    response = sap.get("Items", headers={"Prefer": "odata.maxpagesize=7"}, version="v1")
    assert len(response.json()["value"]) == 7
    assert response.headers["Preference-Applied"] == "odata.maxpagesize=7"
    assert response.json()["odata.nextLink"] == "Items?$skip=7"


def test_next_link_repeats_filter_select_orderby_and_top(sap):
    body = sap.get(
        "Items",
        params={"$filter": "Valid eq 'tYES'", "$select": "ItemCode", "$orderby": "ItemName", "$top": "25"},
        headers={"Prefer": "odata.maxpagesize=10"},
    ).json()
    assert body["@odata.nextLink"] == (
        "Items?$filter=Valid%20eq%20'tYES'&$select=ItemCode&$orderby=ItemName&$top=15&$skip=10"
    )
    second = sap.get(body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=10"}).json()
    third = sap.get(second["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=10"}).json()
    assert len(second["value"]) == 10 and len(third["value"]) == 5 and "@odata.nextLink" not in third


def test_full_last_page_has_a_link_to_an_empty_page(sap):
    body = sap.get("Items?$skip=40", headers={"Prefer": "odata.maxpagesize=20"}).json()  # 60 items
    assert len(body["value"]) == 20 and body["@odata.nextLink"] == "Items?$skip=60"
    empty = sap.get(body["@odata.nextLink"]).json()
    assert empty["value"] == [] and "@odata.nextLink" not in empty


def test_offsets_are_live_an_insert_mid_traversal_duplicates_a_row(sap):
    first = sap.get("Items?$select=ItemCode").json()
    sap.store.insert_item("A00000")  # sorts before every seeded item: shifts all offsets by one
    second = sap.get(first["@odata.nextLink"]).json()
    assert first["value"][-1]["ItemCode"] == second["value"][0]["ItemCode"]


def test_key_set_paging_walks_everything_once(sap):
    seen, last = [], ""
    while True:
        rows = sap.get(
            "Items",
            params={"$filter": f"ItemCode gt '{last}'", "$orderby": "ItemCode", "$select": "ItemCode"},
        ).json()["value"]
        if not rows:
            break
        seen += [r["ItemCode"] for r in rows]
        last = rows[-1]["ItemCode"]
    assert seen == sap.store.table("Items").keys


def test_filtered_paging_skips_a_row_when_one_drops_out_mid_traversal(sap):
    params = {"$filter": "Frozen eq 'tNO'", "$select": "ItemCode"}
    everything = [
        r["ItemCode"]
        for r in sap.get("Items", params=params, headers={"Prefer": "odata.maxpagesize=1000"}).json()["value"]
    ]
    first = sap.get("Items", params=params, headers={"Prefer": "odata.maxpagesize=5"}).json()
    sap.store.update_item(everything[0], Frozen="tYES")
    second = sap.get(first["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=5"}).json()
    assert second["value"][0]["ItemCode"] == everything[6]  # everything[5] was skipped silently


def test_items_carry_their_warehouse_rows(sap):
    item = sap.get("Items('A00001')").json()
    rows = item["ItemWarehouseInfoCollection"]
    assert [r["WarehouseCode"] for r in rows] == ["01", "02", "03", "04", "05"]
    assert set(rows[0]) >= {"WarehouseCode", "InStock", "Committed", "Ordered", "Locked"}


def test_seeded_warehouses_have_the_special_ones(sap):
    rows = {w["WarehouseCode"]: w for w in sap.get("Warehouses").json()["value"]}
    assert rows["03"]["Nettable"] == "tNO"
    assert rows["04"]["DropShip"] == "tYES"
    assert rows["05"]["Inactive"] == "tYES"
    assert "@odata.etag" not in rows["01"]  # no ETags on Warehouses (§7)


def test_seed_is_deterministic(start_sap):
    a, b = start_sap(seed=7, login=False), start_sap(seed=7, login=False)
    assert a.store.table("Items").rows == b.store.table("Items").rows

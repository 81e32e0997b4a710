"""Bulk import (JSON, CSV body, multipart upload): all rows or none, per-row report; export round-trips."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import bearer

WAREHOUSES = "/mappings/warehouses"


async def _import(
    client: httpx.AsyncClient, keys: dict[str, str], kind: str, *, dry_run: bool = False, **send: Any
) -> httpx.Response:
    params = {"dry_run": "true"} if dry_run else {}
    headers = {**bearer(keys["admin"]), **send.pop("headers", {})}
    return await client.post(f"/mappings/{kind}/import", params=params, headers=headers, **send)


async def _codes(client: httpx.AsyncClient, keys: dict[str, str]) -> list[str]:
    rows = (await client.get(WAREHOUSES, headers=bearer(keys["read"]))).json()
    return [row["sap_warehouse_code"] for row in rows]


async def test_json_import_creates_and_reports_each_row(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    rows = [
        {"sap_warehouse_code": "01", "ip_warehouse_id": "east"},
        {"sap_warehouse_code": "02", "ip_warehouse_id": "west", "include_non_nettable": True},
    ]
    response = await _import(client, keys, "warehouses", json=rows)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["applied"] is True and report["created"] == 2
    assert [(r["row"], r["ok"], r["action"], r["key"]) for r in report["rows"]] == [
        (1, True, "created", "01"),
        (2, True, "created", "02"),
    ]
    assert await _codes(client, keys) == ["01", "02"]
    audit = (
        await client.get(
            "/audit", params={"entity_type": "warehouse_mapping"}, headers=bearer(keys["admin"])
        )
    ).json()["items"]
    assert {(e["action"], e["entity_id"], e["note"]) for e in audit} == {
        ("mapping.created", "01", "bulk import"),
        ("mapping.created", "02", "bulk import"),
    }


async def test_one_bad_row_applies_nothing_and_says_which(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    rows = [
        {"sap_warehouse_code": "01", "ip_warehouse_id": "east"},
        {"sap_warehouse_code": "TOOLONGCODE", "ip_warehouse_id": "west"},
        {"sap_warehouse_code": "03"},
        {"sap_warehouse_code": "01", "ip_warehouse_id": "north"},
    ]
    response = await _import(client, keys, "warehouses", json=rows)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    report = {r["row"]: r for r in problem["report"]["rows"]}
    assert report[1]["ok"] is True
    assert "at most 8" in report[2]["errors"][0]["message"]
    assert report[3]["errors"][0]["field"] == "ip_warehouse_id"
    assert report[4]["errors"] == [{"field": "sap_warehouse_code", "message": "01 is also on row 1"}]
    assert {e["row"] for e in problem["errors"]} == {2, 3, 4}
    assert await _codes(client, keys) == []


async def test_the_many_to_one_rule_spans_the_file_and_existing_rows(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    await client.post(
        WAREHOUSES,
        json={"sap_warehouse_code": "01", "ip_warehouse_id": "east"},
        headers=bearer(keys["admin"]),
    )
    rows = [
        {"sap_warehouse_code": "02", "ip_warehouse_id": "east", "mode": "aggregate"},
        {"sap_warehouse_code": "03", "ip_warehouse_id": "south"},
    ]
    refused = await _import(client, keys, "warehouses", json=rows)
    assert refused.status_code == 422
    row1, row2 = refused.json()["report"]["rows"]
    assert row1["ok"] is False and "01 (direct)" in row1["errors"][0]["message"]
    assert row2["ok"] is True
    # Making the existing one aggregate in the same file fixes it, whatever the row order.
    rows.append({"sap_warehouse_code": "01", "mode": "aggregate"})
    accepted = await _import(client, keys, "warehouses", json=rows)
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["created"], accepted.json()["updated"]) == (2, 1)
    one = (await client.get(f"{WAREHOUSES}/01", headers=bearer(keys["read"]))).json()
    assert one["mode"] == "aggregate" and one["ip_warehouse_id"] == "east"  # unlisted fields kept


async def test_dry_run_validates_and_changes_nothing(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    rows = [{"sap_warehouse_code": "01", "ip_warehouse_id": "east"}]
    response = await _import(client, keys, "warehouses", dry_run=True, json=rows)
    assert response.status_code == 200
    assert response.json()["dry_run"] is True and response.json()["applied"] is False
    assert response.json()["rows"][0]["action"] == "created"
    assert await _codes(client, keys) == []
    bad = await _import(client, keys, "warehouses", dry_run=True, json=[{"sap_warehouse_code": ""}])
    assert bad.status_code == 422


async def test_csv_body_import_with_per_row_errors(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    csv_text = "sap_group_code,ip_category,include_in_planning\n100,Tools,true\nabc,Spares,\n102,,no\n"
    response = await _import(
        client,
        keys,
        "item-groups",
        content=csv_text.encode(),
        headers={**bearer(keys["admin"]), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    rows = response.json()["report"]["rows"]
    assert [r["ok"] for r in rows] == [True, False, False]
    assert rows[1]["errors"][0]["field"] == "sap_group_code"
    assert rows[2]["errors"][0]["field"] == "ip_category"
    assert (await client.get("/mappings/item-groups", headers=bearer(keys["read"]))).json() == []

    good = csv_text.replace("abc", "101").replace("102,,no", "102,Parts,no")
    ok = await _import(
        client,
        keys,
        "item-groups",
        content=good.encode(),
        headers={**bearer(keys["admin"]), "Content-Type": "text/csv"},
    )
    assert ok.status_code == 200 and ok.json()["created"] == 3
    groups = (await client.get("/mappings/item-groups", headers=bearer(keys["read"]))).json()
    assert [(g["sap_group_code"], g["include_in_planning"]) for g in groups] == [
        (100, True),
        (101, True),
        (102, False),
    ]


async def test_multipart_csv_upload(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    csv_bytes = "\ufeffip_vendor,sap_card_code\nAcme,V100\nGlobex,V200\n".encode()
    response = await _import(
        client, keys, "vendors", files={"file": ("vendors.csv", csv_bytes, "text/csv")}
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2


async def test_unreadable_bodies_are_problems_not_500s(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    not_json = await _import(
        client,
        keys,
        "vendors",
        content=b"{oops",
        headers={**bearer(keys["admin"]), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422
    not_list = await _import(client, keys, "vendors", json={"ip_vendor": "x"})
    assert not_list.status_code == 422
    wrong_type = await _import(
        client,
        keys,
        "vendors",
        content=b"<xml/>",
        headers={**bearer(keys["admin"]), "Content-Type": "application/xml"},
    )
    assert wrong_type.status_code == 400
    scalar_rows = await _import(client, keys, "vendors", json=[1])
    assert scalar_rows.status_code == 422
    assert (
        scalar_rows.json()["report"]["rows"][0]["errors"][0]["message"] == "each row must be a JSON object"
    )
    assert (
        await client.post("/mappings/vendors/import", json=[], headers=bearer(keys["write"]))
    ).status_code == 403


async def test_export_round_trips_through_import(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    rows = [
        {
            "sap_warehouse_code": "01",
            "ip_warehouse_id": "east",
            "ip_warehouse_name": "East, main",
            "mode": "aggregate",
            "include_drop_ship": True,
        },
        {"sap_warehouse_code": "02", "ip_warehouse_id": "east", "mode": "aggregate", "active": False},
    ]
    assert (await _import(client, keys, "warehouses", json=rows)).status_code == 200
    read = bearer(keys["read"])

    exported_csv = await client.get("/mappings/warehouses/export", params={"format": "csv"}, headers=read)
    assert exported_csv.status_code == 200
    assert exported_csv.headers["content-type"].startswith("text/csv")
    assert exported_csv.text.splitlines()[0].startswith("sap_warehouse_code,ip_warehouse_id")
    again = await _import(
        client,
        keys,
        "warehouses",
        content=exported_csv.content,
        headers={**bearer(keys["admin"]), "Content-Type": "text/csv"},
    )
    assert again.status_code == 200, again.text
    assert (again.json()["unchanged"], again.json()["created"], again.json()["updated"]) == (2, 0, 0)

    exported_json = (await client.get("/mappings/warehouses/export", headers=read)).json()
    assert exported_json[0]["ip_warehouse_name"] == "East, main" and exported_json[1]["active"] is False
    assert (await _import(client, keys, "warehouses", json=exported_json)).json()["unchanged"] == 2

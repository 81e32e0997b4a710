"""/mappings CRUD over HTTP, the many-to-one refusal, validation, scopes, audit, lookups."""

from __future__ import annotations

from typing import Any

import httpx

from app.db.session import session_scope
from app.mappings import service as mapping_service
from tests.conftest import bearer


async def _post(
    client: httpx.AsyncClient, keys: dict[str, str], path: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(path, json=body, headers=bearer(keys["admin"]))


async def test_warehouse_crud_round_trip(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    admin, read = bearer(keys["admin"]), bearer(keys["read"])
    created = await _post(
        client,
        keys,
        "/mappings/warehouses",
        {"sap_warehouse_code": " 01 ", "ip_warehouse_id": "wh-main", "ip_warehouse_name": "Main"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["sap_warehouse_code"] == "01" and body["mode"] == "direct"
    assert body["include_non_nettable"] is False and body["active"] is True

    assert (await client.get("/mappings/warehouses/01", headers=read)).json()["ip_warehouse_name"] == "Main"
    patched = await client.patch("/mappings/warehouses/01", json={"include_drop_ship": True}, headers=admin)
    assert patched.json()["include_drop_ship"] is True and patched.json()["ip_warehouse_name"] == "Main"
    replaced = await client.put("/mappings/warehouses/01", json={"ip_warehouse_id": "wh-2"}, headers=admin)
    assert replaced.json()["ip_warehouse_id"] == "wh-2" and replaced.json()["include_drop_ship"] is False
    assert [
        m["sap_warehouse_code"] for m in (await client.get("/mappings/warehouses", headers=read)).json()
    ] == ["01"]
    deleted = await client.delete("/mappings/warehouses/01", headers=admin)
    assert deleted.status_code == 200 and deleted.json()["ip_warehouse_id"] == "wh-2"
    assert (await client.get("/mappings/warehouses/01", headers=read)).status_code == 404

    audit = (
        await client.get(
            "/audit", params={"entity_type": "warehouse_mapping", "entity_id": "01"}, headers=admin
        )
    ).json()["items"]
    assert [e["action"] for e in audit] == [
        "mapping.deleted",
        "mapping.replaced",
        "mapping.updated",
        "mapping.created",
    ]
    assert (
        audit[2]["before"]["include_drop_ship"] is False and audit[2]["after"]["include_drop_ship"] is True
    )
    assert all(e["actor"] == "apikey:test-admin" for e in audit)


async def test_creating_twice_is_409(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    body = {"sap_warehouse_code": "01", "ip_warehouse_id": "a"}
    assert (await _post(client, keys, "/mappings/warehouses", body)).status_code == 201
    again = await _post(client, keys, "/mappings/warehouses", body)
    assert again.status_code == 409 and "PUT or PATCH" in again.json()["detail"]


async def test_two_sap_warehouses_into_one_ip_warehouse_is_refused_unless_all_aggregate(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    path, admin = "/mappings/warehouses", bearer(keys["admin"])
    await _post(client, keys, path, {"sap_warehouse_code": "01", "ip_warehouse_id": "east"})
    refused = await _post(
        client, keys, path, {"sap_warehouse_code": "02", "ip_warehouse_id": "east", "mode": "aggregate"}
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert "01 (direct)" in problem["detail"] and "mode=aggregate on 01 and 02" in problem["detail"]
    assert problem["conflicting_sap_warehouses"] == ["01"]
    assert (await client.get(f"{path}/02", headers=admin)).status_code == 404  # nothing half-saved

    await client.patch(f"{path}/01", json={"mode": "aggregate"}, headers=admin)
    accepted = await _post(
        client, keys, path, {"sap_warehouse_code": "02", "ip_warehouse_id": "east", "mode": "aggregate"}
    )
    assert accepted.status_code == 201
    back = await client.patch(f"{path}/01", json={"mode": "direct"}, headers=admin)
    assert back.status_code == 409 and "02 (aggregate)" in back.json()["detail"]
    # An inactive mapping feeds nothing, so it may sit alongside.
    await client.patch(f"{path}/02", json={"active": False}, headers=admin)
    assert (await client.patch(f"{path}/01", json={"mode": "direct"}, headers=admin)).status_code == 200


async def test_bad_input_is_a_422_with_field_errors(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await _post(
        client,
        keys,
        "/mappings/warehouses",
        {"sap_warehouse_code": "TOOLONGCODE", "ip_warehouse_id": "", "mode": "sum", "surprise": 1},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"sap_warehouse_code", "ip_warehouse_id", "mode", "surprise"}
    vendor = await _post(
        client, keys, "/mappings/vendors", {"ip_vendor": "Acme", "sap_card_code": "X" * 16}
    )
    assert vendor.status_code == 422 and "at most 15" in vendor.json()["errors"][0]["message"]


async def test_changes_need_admin_and_reads_need_a_key(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    body = {"ip_vendor": "Acme", "sap_card_code": "V100"}
    assert (
        await client.post("/mappings/vendors", json=body, headers=bearer(keys["write"]))
    ).status_code == 403
    assert (await client.get("/mappings/vendors")).status_code == 401
    assert (await client.get("/mappings/vendors", headers=bearer(keys["read"]))).json() == []


async def test_item_group_and_vendor_crud(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    admin = bearer(keys["admin"])
    group = await _post(
        client, keys, "/mappings/item-groups", {"sap_group_code": 100, "ip_category": "Tools"}
    )
    assert group.status_code == 201 and group.json()["include_in_planning"] is True
    patched = await client.patch(
        "/mappings/item-groups/100", json={"include_in_planning": False}, headers=admin
    )
    assert patched.json()["include_in_planning"] is False
    vendor = await _post(
        client, keys, "/mappings/vendors", {"ip_vendor": "Acme / EU", "sap_card_code": "V100"}
    )
    assert vendor.status_code == 201
    got = await client.get("/mappings/vendors/Acme%20%2F%20EU", headers=admin)
    assert got.status_code == 200 and got.json()["sap_card_code"] == "V100"
    put = await client.put("/mappings/vendors/Acme / EU", json={"sap_card_code": "V200"}, headers=admin)
    assert put.json()["sap_card_code"] == "V200"


async def test_lookups_other_domains_call(
    app: Any, client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    path = "/mappings/warehouses"
    for code, ip, active in (("01", "east", True), ("02", "east", True), ("03", "west", False)):
        await _post(
            client,
            keys,
            path,
            {"sap_warehouse_code": code, "ip_warehouse_id": ip, "mode": "aggregate", "active": active},
        )
    await _post(client, keys, "/mappings/item-groups", {"sap_group_code": 101, "ip_category": "Spares"})
    await _post(client, keys, "/mappings/vendors", {"ip_vendor": "Acme", "sap_card_code": "V100"})
    async with session_scope(app.state.runtime.sessionmaker) as session:
        assert sorted(await mapping_service.warehouse_map(session)) == ["01", "02"]
        east = await mapping_service.sap_warehouse_for_ip(session, "east")
        assert [m.sap_warehouse_code for m in east] == ["01", "02"]
        assert await mapping_service.sap_warehouse_for_ip(session, "west") == []
        assert (await mapping_service.item_group_map(session))[101].ip_category == "Spares"
        assert await mapping_service.card_code_for_vendor(session, " Acme ") == "V100"
        assert await mapping_service.card_code_for_vendor(session, "Nobody") is None

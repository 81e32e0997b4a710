"""/sync and /stock over HTTP against data a real sync produced."""

from __future__ import annotations

import httpx

from app.db.session import session_scope
from app.models.sync import IpStock, RunTrigger
from app.sync import service
from tests.conftest import bearer
from tests.sync.conftest import World, add_mappings
from tests.sync.test_end_to_end import GROUPS, MAPPED


async def test_post_sync_stock_returns_202_and_the_same_run_while_pending(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    first = await client.post("/sync/stock", json={"full": True}, headers=bearer(keys["write"]))
    second = await client.post("/sync/stock", json={"full": False}, headers=bearer(keys["write"]))
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"] and second.json()["created"] is False
    assert first.json()["mode"] == "full" and first.json()["status"] == "pending"
    denied = await client.post("/sync/stock", json={}, headers=bearer(keys["read"]))
    assert denied.status_code == 403
    runs = await client.get("/sync/runs", headers=bearer(keys["read"]))
    assert [r["id"] for r in runs.json()["items"]] == [first.json()["id"]]
    one = await client.get(f"/sync/runs/{first.json()['id']}", headers=bearer(keys["read"]))
    assert one.json()["trigger"] == "api"
    assert (await client.get("/sync/runs/nope", headers=bearer(keys["read"]))).status_code == 404


async def test_stock_views(world: World, client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    outcome = await service.run_stock(world.runtime, full=True, trigger=RunTrigger.cli)
    assert outcome is not None and outcome.ok
    auth = bearer(keys["read"])
    page = (await client.get("/stock", params={"limit": 7}, headers=auth)).json()
    assert len(page["items"]) == 7 and page["next_cursor"]
    nxt = (
        await client.get("/stock", params={"limit": 7, "cursor": page["next_cursor"]}, headers=auth)
    ).json()
    assert nxt["items"][0]["sku"] >= page["items"][-1]["sku"]
    only = (await client.get("/stock", params={"sap_warehouse": "04"}, headers=auth)).json()["items"]
    assert only and all(r["excluded_by_rule"] == "non_nettable" for r in only)
    sku = page["items"][0]["sku"]
    detail = (await client.get(f"/stock/{sku}", headers=auth)).json()
    assert {r["sap_warehouse"] for r in detail["sap_warehouses"]} >= {"01", "02"}
    assert (await client.get("/stock/NOPE", headers=auth)).status_code == 404
    async with session_scope(world.runtime.sessionmaker) as session:  # IP reports a different figure
        row = await session.get(IpStock, (sku, "01"))
        assert row is not None
        row.ip_in_stock = row.sap_available + 50
    drift = (await client.get("/stock/drift", headers=auth)).json()
    assert [d["sku"] for d in drift["items"]] == [sku] and drift["items"][0]["difference"] == -50
    drifting = (await client.get("/stock", params={"drifting_only": True}, headers=auth)).json()["items"]
    assert [r["sku"] for r in drifting] == [sku]

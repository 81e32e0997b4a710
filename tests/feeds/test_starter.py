"""Starter hosted feed: basic auth per connector, HEAD = GET, only complete snapshots served."""

from __future__ import annotations

import httpx
from sqlmodel import select

from app.db.session import session_scope
from app.feeds import service as feeds_service
from app.models.sync import IpStock, RunTrigger
from app.sync import service
from tests.conftest import bearer
from tests.sync.conftest import World, add_mappings
from tests.sync.test_end_to_end import GROUPS, MAPPED

URL = "/feeds/starter/main/products.csv"


async def test_starter_feed(world: World, client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    outcome = await service.run_stock(world.runtime, full=True, trigger=RunTrigger.cli)
    assert outcome is not None and outcome.ok
    body = {"name": "main", "ip_warehouse_id": "01", "username": "ip", "password": "a-long-password"}
    made = await client.post("/feeds/starter/connectors", json=body, headers=bearer(keys["admin"]))
    assert made.status_code == 201 and "password" not in made.json()
    assert (
        await client.post("/feeds/starter/connectors", json=body, headers=bearer(keys["write"]))
    ).status_code == 403
    auth = ("ip", "a-long-password")
    assert (await client.get(URL, auth=auth)).status_code == 404  # nothing complete built yet
    assert (await feeds_service.build_starter(world.runtime))["01"].startswith("published")
    assert (await client.get(URL)).status_code == 401
    assert (await client.get(URL, auth=("ip", "wrong-password!"))).status_code == 401
    got = await client.get(URL, auth=auth)
    head = await client.head(URL, auth=auth)
    assert got.status_code == head.status_code == 200 and head.content == b""
    assert (
        got.headers["etag"] == head.headers["etag"]
        and got.headers["last-modified"] == head.headers["last-modified"]
    )
    assert got.headers["content-length"] == head.headers["content-length"]
    assert got.text.splitlines()[0].startswith("product_id,title,price,SKU,created_at,stock_quantity")
    cached = await client.get(URL, auth=auth, headers={"If-None-Match": got.headers["etag"]})
    assert cached.status_code == 304
    # A failed build (nothing to publish) never replaces the last complete snapshot.
    async with session_scope(world.runtime.sessionmaker) as session:
        for row in (await session.exec(select(IpStock))).all():
            row.live = False
    assert (await feeds_service.build_starter(world.runtime))["01"].startswith("kept previous")
    again = await client.get(URL, auth=auth)
    assert again.status_code == 200 and again.headers["etag"] == got.headers["etag"]

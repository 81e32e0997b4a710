"""Faults during a sync leave the watermark alone; changes reach IP exactly; paging loses nothing."""

from __future__ import annotations

import httpx
import pytest

from app.db.session import session_scope
from app.feeds import service as feeds_service
from app.integrations.inventory_planner.sftp import SftpConfig
from app.integrations.sap_b1.client import SapB1Client
from app.models.feeds import DeliveryStatus, FeedDelivery
from app.models.sync import RunTrigger, StockSnapshot
from app.sync import repository, service
from tests.sync.conftest import World, add_mappings
from tests.sync.test_end_to_end import (
    GROUPS,
    MAPPED,
    open_exceptions,
    post_goods_receipt,
    sap_items,
    sync_and_ingest,
)


async def watermark(world: World) -> object:
    async with session_scope(world.runtime.sessionmaker) as session:
        return await repository.watermark(session, "stock")


@pytest.mark.parametrize(
    "knobs",
    [{"error_5xx_rate": 1.0}, {"timeout_rate": 1.0, "timeout_hang_s": 0.05}, {"session_expiry_every": 1}],
)
async def test_a_failed_run_keeps_the_watermark_and_the_next_catches_up(world: World, knobs: dict) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    await sync_and_ingest(world, full=True)
    before = await watermark(world)
    sku = next(
        i["ItemCode"]
        for i in await sap_items(world)
        if i["Valid"] == "tYES" and i["Frozen"] == "tNO" and i["InventoryItem"] == "tYES"
    )
    await post_goods_receipt(world, sku, "01", 3)
    previous = world.ip_store.stock_of(sku, "c123_csv.01")
    world.sap_control("POST", "/faults", knobs)
    failed = await service.run_stock(world.runtime, trigger=RunTrigger.cli)
    world.sap_control("POST", "/faults", {"reset": True})
    assert failed is not None and not failed.ok
    assert await watermark(world) == before
    await sync_and_ingest(world)
    assert world.ip_store.stock_of(sku, "c123_csv.01") == previous + 3


async def test_an_item_made_inactive_is_sent_as_removed(world: World) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    await sync_and_ingest(world, full=True)
    sku = next(
        i["ItemCode"]
        for i in await sap_items(world)
        if i["Valid"] == "tYES" and i["Frozen"] == "tNO" and i["InventoryItem"] == "tYES"
    )
    async with SapB1Client(world.runtime.settings.sap) as sap:
        await sap.patch("Items", sku, {"Valid": "tNO"})
    outcome = await sync_and_ingest(world)
    assert outcome.sinks.samples["variants"][0]["REMOVED"] is True
    assert all(r["REMOVED"] for r in outcome.sinks.samples["variant-warehouses"])
    variant = next(v for v in world.ip_store.variants.values() if v["sku"] == sku)
    assert variant["removed"]


async def test_rows_changed_during_a_paged_read_are_not_lost(world: World) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    items = await sap_items(world)
    last = items[-1]["ItemCode"]
    pages = []

    def during(n: int) -> None:
        if not pages:  # after the first page: insert before the cursor, change a row ahead of it
            httpx.post(
                f"{world.sap_url}/_emulator/items", json={"ItemCode": "A00000", "ItemName": "new"}, timeout=5
            )
            httpx.post(
                f"{world.sap_url}/_emulator/stock",
                json={"ItemCode": last, "WarehouseCode": "01", "InStock": 4242, "Committed": 0},
                timeout=5,
            )
        pages.append(n)

    world.runtime.settings.sync.page_size = 5  # many pages, so the change lands beyond the read-ahead
    outcome = await service.run_stock(world.runtime, full=True, trigger=RunTrigger.cli, progress=during)
    assert outcome is not None and outcome.ok
    async with session_scope(world.runtime.sessionmaker) as session:
        snap = await session.get(StockSnapshot, (last, "01"))
        count = len(await repository.sku_index(session))
    assert snap is not None and snap.on_hand == 4242
    assert count == len(items)  # every item once; A00000 sorted before the cursor: next run's job


async def test_sftp_outage_queues_files_and_delivers_them_later_in_order(world: World) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    outcome = await service.run_stock(world.runtime, full=True, trigger=RunTrigger.cli)
    assert outcome is not None and outcome.ok
    down = SftpConfig(host="127.0.0.1", port=1, username="x", password="y", attempts=1, connect_timeout=1)
    result = await feeds_service.deliver_queued(world.runtime, down)
    assert result["delivered"] == 0 and result["queued"] == 3
    assert ("FEED_DELIVERY_FAILED", "feed=advanced") in await open_exceptions(world)
    second = await service.run_stock(world.runtime, trigger=RunTrigger.cli)  # nothing new: still 3
    assert second is not None and second.ok
    result = await feeds_service.deliver_queued(world.runtime, world.sftp)
    assert result == {"delivered": 3, "queued": 0}
    async with session_scope(world.runtime.sessionmaker) as session:
        from sqlmodel import col, select

        rows = (await session.exec(select(FeedDelivery).order_by(col(FeedDelivery.delivered_at)))).all()
    assert [r.entity for r in rows] == ["warehouses", "variants", "variant-warehouses"]
    assert all(r.status == DeliveryStatus.delivered for r in rows)
    assert ("FEED_DELIVERY_FAILED", "feed=advanced") not in await open_exceptions(world)
    world.ip_sync()
    assert world.ip_store.read_stock()


async def test_conflicting_mappings_hold_the_ip_warehouse(world: World) -> None:
    await add_mappings(
        world.runtime,
        warehouses={"01": {"ip_warehouse_id": "X"}, "02": {"ip_warehouse_id": "X"}},
        groups=GROUPS,
    )
    outcome = await service.run_stock(world.runtime, full=True, trigger=RunTrigger.cli)
    assert outcome is not None and outcome.ok
    assert "variant-warehouses" not in outcome.sinks.counts
    assert ("WAREHOUSE_MAPPING_CONFLICT", "ip_warehouse=X") in await open_exceptions(world)


async def test_dry_run_changes_nothing(world: World) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    outcome = await service.run_stock(world.runtime, full=True, trigger=RunTrigger.cli, dry_run=True)
    assert outcome is not None and outcome.ok and outcome.run is None
    assert outcome.sinks.counts["variant-warehouses"] > 50 and outcome.sinks.samples["variants"]
    async with session_scope(world.runtime.sessionmaker) as session:
        assert await repository.sku_index(session) == {}
        assert await repository.watermark(session, "stock") is None
        assert await repository.last_run(session, "stock") is None
    assert not list((world.runtime.settings.sync.feed_dir or world.runtime.settings.data_dir).rglob("*.csv"))

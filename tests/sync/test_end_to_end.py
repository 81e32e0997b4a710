"""SAP emulator -> sync -> SFTP -> IP emulator ingest, over real HTTP/SFTP, real DB and Redis."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.db.session import session_scope
from app.feeds import service as feeds_service
from app.integrations.sap_b1.client import SapB1Client
from app.models.exception import BusinessException
from app.models.sync import RunStatus, RunTrigger
from app.sync import service
from tests.sync.conftest import World, add_mappings

MAPPED = {"01": {}, "02": {}, "04": {}, "05": {}, "06": {}}  # 03 unmapped; 04-06 excluded by status
GROUPS = {100 + g: True for g in range(7)}  # group 107 unmapped (sent anyway: the default policy)


async def sap_items(world: World) -> list[dict[str, Any]]:
    async with SapB1Client(world.runtime.settings.sap) as sap:
        return [i async for page in sap.iter_keyset("Items", key="ItemCode") for i in page]


async def post_goods_receipt(world: World, sku: str, warehouse: str, qty: float) -> None:
    async with SapB1Client(world.runtime.settings.sap) as sap:
        await sap.create(
            "InventoryGenEntries",
            {"DocumentLines": [{"ItemCode": sku, "Quantity": qty, "WarehouseCode": warehouse}]},
        )


def live(item: dict[str, Any]) -> bool:
    return item["Valid"] == "tYES" and item["Frozen"] == "tNO" and item["InventoryItem"] == "tYES"


async def sync_and_ingest(world: World, *, full: bool = False) -> service.Outcome:
    outcome = await service.run_stock(world.runtime, full=full, trigger=RunTrigger.cli)
    assert outcome is not None and outcome.ok, outcome and outcome.error
    await feeds_service.deliver_queued(world.runtime, world.sftp)
    world.ip_sync()
    return outcome


async def open_exceptions(world: World) -> set[tuple[str, str]]:
    async with session_scope(world.runtime.sessionmaker) as session:
        rows = (await session.exec(select(BusinessException))).all()
        return {(r.type, r.subject_text) for r in rows if r.status in ("open", "acknowledged")}


async def test_ip_stock_equals_sap_available_for_every_mapped_sku(world: World) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    outcome = await sync_and_ingest(world, full=True)
    assert outcome.run is not None and outcome.run.status == RunStatus.succeeded
    checked = 0
    for item in await sap_items(world):
        for row in item["ItemWarehouseInfoCollection"]:
            if row["WarehouseCode"] in ("01", "02") and live(item):
                expected = row["InStock"] - row["Committed"]
                assert (
                    world.ip_store.stock_of(item["ItemCode"], f"c123_csv.{row['WarehouseCode']}") == expected
                )
                checked += 1
    assert checked > 50
    found = await open_exceptions(world)
    types = {t for t, _ in found}
    assert {"UNMAPPED_WAREHOUSE", "NON_NETTABLE_STOCK", "UNMAPPED_CATEGORY"} <= types, found


async def test_second_run_sends_nothing_and_one_change_sends_one_row(world: World) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    await sync_and_ingest(world, full=True)
    again = await sync_and_ingest(world)
    assert again.run is not None and again.run.sent_count == 0 and again.run.files == []
    item = next(i for i in await sap_items(world) if live(i))
    # A goods receipt moves OITW only: Items.UpdateDate stays (reference §11), the document finds it.
    await post_goods_receipt(world, item["ItemCode"], "01", 5)
    one = await sync_and_ingest(world)
    assert one.run is not None and one.run.sent_count == 1, one.run.files
    row = next(r for r in item["ItemWarehouseInfoCollection"] if r["WarehouseCode"] == "01")
    assert world.ip_store.stock_of(item["ItemCode"], "c123_csv.01") == row["InStock"] + 5 - row["Committed"]

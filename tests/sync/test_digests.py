"""Items whose SAP data and routing did not change since a successful run are skipped by digest;
a failed run or a mapping change makes them evaluated again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select, update

from app.db.session import session_scope
from app.emulators.sap_b1 import EmulatorConfig
from app.models.mapping import ItemGroupMapping
from app.models.sync import ItemState, RunTrigger
from app.sync import service
from app.sync.engine import PAGES_PER_TRANSACTION
from tests.sync.conftest import World, add_mappings
from tests.sync.test_end_to_end import GROUPS, MAPPED, live, post_goods_receipt, sap_items, sync_and_ingest

PAGE = 25  # world_settings' sync page size


@pytest.fixture
def sap_config() -> EmulatorConfig:
    # More pages than one writer transaction holds, so a run can fail with pages committed.
    return EmulatorConfig(items=PAGE * (PAGES_PER_TRANSACTION + 4), warehouses=6, seed=7)


async def test_an_unchanged_catalogue_is_skipped_with_the_same_counts(world: World) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    first = await sync_and_ingest(world, full=True)
    again = await sync_and_ingest(world, full=True)
    assert first.run is not None and again.run is not None
    assert again.run.sent_count == 0 and again.run.changed_count == 0 and again.run.files == []
    assert (again.run.read_count, again.run.skipped_count) == (first.run.read_count, first.run.skipped_count)


async def test_rows_stored_by_a_failed_run_are_sent_by_the_next(world: World) -> None:
    """The failed run commits its first pages (new digests, new SAP figures) but marks nothing as
    sent: the next run must not take those digests as 'already sent'."""
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    await sync_and_ingest(world, full=True)
    sku = sorted(i["ItemCode"] for i in await sap_items(world) if live(i))[0]  # on the first page
    previous = world.ip_store.stock_of(sku, "c123_csv.01")
    await post_goods_receipt(world, sku, "01", 5)
    read = 0

    def fail_later(n: int) -> None:
        nonlocal read
        read += n
        if read >= PAGE * (PAGES_PER_TRANSACTION + 1):
            world.sap_control("POST", "/faults", {"error_5xx_rate": 1.0})

    failed = await service.run_stock(world.runtime, full=True, trigger=RunTrigger.cli, progress=fail_later)
    world.sap_control("POST", "/faults", {"reset": True})
    assert failed is not None and not failed.ok
    outcome = await sync_and_ingest(world, full=True)
    assert {r["VARIANT_ID"] for r in outcome.sinks.samples["variant-warehouses"]} == {sku}
    assert world.ip_store.stock_of(sku, "c123_csv.01") == previous + 5


async def test_a_group_mapping_change_reaches_items_sap_did_not_change(world: World) -> None:
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    await sync_and_ingest(world, full=True)
    async with session_scope(world.runtime.sessionmaker) as session:
        mapping = (
            await session.exec(select(ItemGroupMapping).where(ItemGroupMapping.sap_group_code == 100))
        ).one()
        mapping.include_in_planning = False
    outcome = await sync_and_ingest(world, full=True)
    in_group = {i["ItemCode"] for i in await sap_items(world) if i["ItemsGroupCode"] == 100 and live(i)}
    removed: dict[str, Any] = {r["SKU"]: r for r in outcome.sinks.samples["variants"]}
    assert in_group and outcome.sinks.counts["variants"] == len(in_group)
    assert all(r["REMOVED"] for r in removed.values()) and set(removed) <= in_group


async def test_digests_of_another_scheme_cost_one_evaluation_and_send_nothing(world: World) -> None:
    """An upgrade that changes how digests are computed (as orjson + SHA-256 replaced marshal +
    BLAKE2b) re-evaluates every item once against its stored rows: nothing is resent."""
    await add_mappings(world.runtime, warehouses=MAPPED, groups=GROUPS)
    await sync_and_ingest(world, full=True)
    async with session_scope(world.runtime.sessionmaker) as session:
        await session.exec(update(ItemState).values(digest="0" * 32))  # type: ignore[call-overload]
    again = await sync_and_ingest(world, full=True)
    assert again.run is not None and again.run.sent_count == 0 and again.run.files == []
    async with session_scope(world.runtime.sessionmaker) as session:
        digests = (await session.exec(select(ItemState.digest))).all()
    assert "0" * 32 not in digests  # stored anew, so the next run skips by digest again

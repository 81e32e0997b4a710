"""The REST client against the IP emulator over real HTTP (reference §4–§9)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.integrations.inventory_planner.client import InventoryPlannerClient, RetryPolicy
from app.integrations.inventory_planner.errors import IPAuthError, IPNotFound, IPReadonly
from app.integrations.inventory_planner.schemas import StatusType
from tests.integrations.inventory_planner.conftest import Emulator


async def test_check_wrong_key_is_an_auth_error(emulator: Emulator) -> None:
    async with InventoryPlannerClient(base_url=emulator.url, api_key="wrong", account="a1234") as client:
        with pytest.raises(IPAuthError):
            await client.list_purchase_orders(limit=1)


async def test_paging_collects_every_po_exactly_once(ip: InventoryPlannerClient) -> None:
    everything = await ip.list_purchase_orders(type=None, limit=1000)
    paged = await ip.list_purchase_orders(type=None, limit=2)
    assert not paged.errors
    assert [p.id for p in paged.good] == [p.id for p in everything.good]
    assert len(paged.good) > 2


async def test_filters_and_fields_reach_ip(ip: InventoryPlannerClient) -> None:
    parsed = await ip.list_purchase_orders(status_ne="draft", fields=["id", "status"], limit=50)
    assert parsed.good and all((p.status or "").lower() != "draft" for p in parsed.good)
    assert all(p.items == [] and p.reference is None for p in parsed.good)


async def test_last_modified_watermark_filters(ip: InventoryPlannerClient) -> None:
    future = await ip.list_purchase_orders(last_modified_gt=datetime(2100, 1, 1, tzinfo=UTC))
    assert future.good == []
    past = await ip.list_purchase_orders(last_modified_gt=datetime(2000, 1, 1, tzinfo=UTC))
    assert past.good


async def test_get_po_with_items_and_unknown_po(ip: InventoryPlannerClient) -> None:
    first = (await ip.list_purchase_orders(limit=1)).good[0]
    po = await ip.get_purchase_order(first.id)
    assert po.items and po.items[0].replenishment is not None
    with pytest.raises(IPNotFound):
        await ip.get_purchase_order("po_missing")


async def test_statuses_of_the_seed_are_all_classified(
    ip: InventoryPlannerClient, emulator: Emulator
) -> None:
    ip.statuses = type(ip.statuses)(emulator.config.custom_statuses)
    parsed = await ip.list_purchase_orders(type=None, statuses=ip.statuses)
    assert not [e for e in parsed.errors if e.kind == "invalid"]
    assert all(p.status_type(ip.statuses).type is not StatusType.unmapped for p in parsed.good)


async def _open_po_id(ip: InventoryPlannerClient) -> str:
    parsed = await ip.list_purchase_orders(status="open")
    return next(p.id for p in parsed.good if not p.is_readonly)


async def test_update_reference_and_receive_absolute_totals(ip: InventoryPlannerClient) -> None:
    po_id = await _open_po_id(ip)
    updated = await ip.update_purchase_order(po_id, reference="SAP-4711")
    assert updated.reference == "SAP-4711"
    po = await ip.get_purchase_order(po_id)
    line = po.items[0]
    for _ in range(2):  # a replay of the same absolute total changes nothing (§10.6)
        echoed = await ip.receive_items(po_id, {line.id: 1}, current=po)
    assert echoed[0].received == 1
    again = await ip.get_purchase_order(po_id)
    assert again.items[0].received == 1
    assert again.items[0].remaining == (line.replenishment or Decimal(0)) - 1


async def test_a_readonly_po_is_never_written(ip: InventoryPlannerClient, emulator: Emulator) -> None:
    po_id = await _open_po_id(ip)
    emulator.control("PATCH", f"/purchase-orders/{po_id}", {"readonly": True})  # e.g. saved to Snowflake
    with pytest.raises(IPReadonly):
        await ip.update_purchase_order(po_id, status="closed")
    po = await ip.get_purchase_order(po_id)
    assert po.is_readonly and po.status == "open"


async def test_variants_and_vendors(ip: InventoryPlannerClient) -> None:
    variants = await ip.list_variants(limit=7)
    assert not variants.errors and len(variants.good) > 7
    one = await ip.get_variant(variants.good[0].id)
    assert one.sku == variants.good[0].sku
    vendors = await ip.list_vendors()
    assert vendors.good
    assert (await ip.get_vendor(vendors.good[0].id)).id == vendors.good[0].id


async def test_ensure_webhook_is_idempotent_and_follows_rotation(ip: InventoryPlannerClient) -> None:
    url = "http://127.0.0.1:9/webhooks/ip?token=one"
    created = await ip.ensure_webhook(url, fields="id,reference,items.id")
    unchanged = await ip.ensure_webhook(url, fields="id,reference,items.id")
    rotated = await ip.ensure_webhook(url.replace("one", "two"), fields="id,reference,items.id")
    assert (created.action, unchanged.action, rotated.action) == ("created", "unchanged", "updated")
    hooks = await ip.list_webhooks()
    assert [h.address for h in hooks] == [url.replace("one", "two")]
    await ip.delete_webhook(hooks[0].id)
    assert await ip.list_webhooks() == []


async def test_throttling_is_absorbed_by_retry_after(emulator: Emulator) -> None:
    emulator.control("POST", "/faults", {"throttle_every": 2, "retry_after_seconds": 0})
    async with InventoryPlannerClient(base_url=emulator.url, api_key=emulator.config.api_key,
                                      account=emulator.config.account,
                                      retry=RetryPolicy(base_seconds=0.01)) as client:
        parsed = await client.list_purchase_orders(type=None, limit=1)
    assert parsed.good and not parsed.errors
    stats = emulator.control("GET", "/stats")
    assert "429" in str(stats)

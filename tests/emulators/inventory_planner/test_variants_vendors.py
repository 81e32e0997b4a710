"""Variants and vendors (reference §7, §11.6)."""

from __future__ import annotations

from tests.emulators.inventory_planner.conftest import Emulator


def test_variant_shows_open_po_quantities_per_warehouse(ip: Emulator) -> None:
    variant = ip.get("/api/v1/variants/c123_csv.A00003").json()["variant"]
    assert variant["sku"] == "A00003" and variant["purchase_orders_qty"] == 12
    assert variant["warehouse"][0]["warehouse"] == "c123_csv.02"
    assert {"in_stock", "replenishment", "to_order", "lead_time", "oos", "replenishment_notes"} <= set(
        variant["warehouse"][0]
    )


def test_warehouse_dot_fields_return_only_ids(ip: Emulator) -> None:
    body = ip.get("/api/v1/variants", params={"fields": "id,warehouse.replenishment_notes", "sku": "A00003"})
    assert body.json()["variants"] == [{"id": "c123_csv.A00003", "warehouse": [{"warehouse": "c123_csv.02"}]}]


def test_variant_stock_is_read_only(ip: Emulator) -> None:
    response = ip.client.patch("/api/v1/variants/c123_csv.A00001", json={"variant": {"in_stock": 5}})
    assert response.status_code == 400


def test_variant_vendors_and_vendor_lookup(start_ip) -> None:
    emulator = start_ip(vendors=[{"id": "acme & co", "display_name": "ACME & Co"}])
    vendors = emulator.get("/api/v1/variants/c123_csv.A00001/vendors").json()["vendors"]
    assert vendors[0]["vendor"] == "acme & co" and vendors[0]["vendor_name"] == "ACME & Co"
    vendor = emulator.get("/api/v1/vendors/acme%20%26%20co").json()["vendor"]
    assert vendor["display_name"] == "ACME & Co"
    assert emulator.get("/api/v1/vendors").json()["meta"]["total"] == 1


def test_seed_follows_configured_skus_and_warehouses(start_ip) -> None:
    emulator = start_ip(skus=["X1", "X2"], warehouses=[{"id": "c9_csv.aa", "display_name": "AA"}])
    pos = emulator.get("/api/v1/purchase-orders", params={"fields": "warehouse,items.sku"}).json()
    assert {po["warehouse"] for po in pos["purchase-orders"]} == {"c9_csv.aa"}
    assert {i["sku"] for po in pos["purchase-orders"] for i in po["items"]} == {"X1", "X2", "ZZ-UNKNOWN-1"}

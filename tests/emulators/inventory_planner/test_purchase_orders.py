"""Purchase-order reads and writes (reference §5, §6, §11.2-§11.5)."""

from __future__ import annotations

from typing import Any

from tests.emulators.inventory_planner.conftest import Emulator


def _ids(response: Any) -> list[str]:
    return [po["id"] for po in response.json()["purchase-orders"]]


def _po(ip: Emulator, po_id: str) -> dict[str, Any]:
    return ip.get(f"/api/v1/purchase-orders/{po_id}").json()["purchase-order"]


def _create(ip: Emulator, **fields: Any) -> dict[str, Any]:
    body = {"warehouse": "c123_csv.01", "vendor": "v10000", "items": [{"sku": "A00001", "replenishment": 5}]}
    response = ip.client.post("/api/v1/purchase-orders", json={"purchase-order": {**body, **fields}})
    assert response.status_code == 200, response.text
    return response.json()["purchase-order"]


def test_list_pages_are_zero_based_with_meta(ip: Emulator) -> None:
    body = ip.get("/api/v1/purchase-orders", params={"limit": 3, "page": 2}).json()
    assert body["meta"] == {
        "name": "purchase-orders",
        "display_name": "purchase orders",
        "total": 8,
        "count": 2,
        "limit": 3,
        "page": 2,
        "start": 6,
        "end": 8,
    }
    assert _ids(ip.get("/api/v1/purchase-orders", params={"limit": 3, "page": 0}))[0] == "po_1001"


def test_limit_above_1000_is_clamped_by_default(ip: Emulator) -> None:
    assert ip.get("/api/v1/purchase-orders", params={"limit": 5000}).json()["meta"]["limit"] == 1000


def test_limit_above_1000_can_be_an_error(start_ip) -> None:
    emulator = start_ip(limit_overflow="error")
    response = emulator.get("/api/v1/purchase-orders", params={"limit": 1001})
    assert response.status_code == 400
    assert response.json()["result"]["status"] == "error"


def test_fields_is_an_allowlist_with_item_dot_paths(ip: Emulator) -> None:
    po = ip.get("/api/v1/purchase-orders", params={"fields": "id,status,items.sku", "limit": 1}).json()
    assert po["purchase-orders"][0] == {
        "id": "po_1001",
        "status": "draft",
        "items": [{"sku": "A00001"}, {"sku": "A00002"}],
    }


def test_equality_and_ne_filters_compare_case_insensitively(ip: Emulator) -> None:
    assert _ids(ip.get("/api/v1/purchase-orders", params={"status": "OPEN", "type": "po"})) == [
        "po_1002",
        "po_1004",
        "po_1006",
    ]
    not_closed = _ids(ip.get("/api/v1/purchase-orders", params={"status_ne": "closed"}))
    assert "po_1005" not in not_closed and len(not_closed) == 7
    assert _ids(ip.get("/api/v1/purchase-orders", params={"sku": "ZZ-UNKNOWN-1"})) == ["po_1004"]


def test_last_modified_gt_returns_only_later_changes(ip: Emulator) -> None:
    watermark = _po(ip, "po_1008")["last_modified"]
    ip.client.patch("/api/v1/purchase-orders/po_1002", json={"purchase-order": {"notes": "x"}})
    changed = _ids(ip.get("/api/v1/purchase-orders", params={"last_modified_gt": watermark}))
    assert changed == ["po_1002"]
    assert _ids(
        ip.get("/api/v1/purchase-orders", params={"total_ordered_gte": 15, "total_ordered_lt": 16})
    ) == ["po_1001", "po_1008"]


def test_field_sort_orders_results(ip: Emulator) -> None:
    ids = _ids(ip.get("/api/v1/purchase-orders", params={"reference_sort": "desc", "limit": 2}))
    assert ids == ["po_1008", "po_1007"]


def test_unknown_id_answers_result_envelope_with_configurable_status(start_ip) -> None:
    emulator = start_ip(not_found_status=400)
    response = emulator.get("/api/v1/purchase-orders/po2")
    assert response.status_code == 400
    assert response.json() == {"result": {"status": "error", "message": "Failed to find purchase-order po2"}}


def test_statuses_are_case_insensitive_and_returned_lowercase(ip: Emulator) -> None:
    closed = ip.client.put("/api/v1/purchase-orders/po_1002", json={"purchase-order": {"status": "CLOSED"}})
    assert closed.json()["purchase-order"]["status"] == "closed"
    custom = ip.client.patch(
        "/api/v1/purchase-orders/po_1002", json={"purchase-order": {"status": "Ordered"}}
    )
    assert custom.json()["purchase-order"]["status"] == "ordered"
    unknown = ip.client.patch("/api/v1/purchase-orders/po_1002", json={"purchase-order": {"status": "lost"}})
    assert unknown.status_code == 400


def test_every_change_bumps_version_and_last_modified(ip: Emulator) -> None:
    before = _po(ip, "po_1002")
    ip.client.patch("/api/v1/purchase-orders/po_1002", json={"purchase-order": {"reference": "PO-X"}})
    after = _po(ip, "po_1002")
    assert after["version"] == before["version"] + 1
    assert after["last_modified"] > before["last_modified"]


def test_create_uses_wrapper_and_defaults_to_draft(ip: Emulator) -> None:
    po = _create(ip)
    assert po["status"] == "draft" and po["items"][0]["sku"] == "A00001" and po["total_ordered"] == 5
    unwrapped = ip.client.post("/api/v1/purchase-orders", json={"warehouse": "c123_csv.01"})
    assert unwrapped.status_code == 400


def test_writes_to_readonly_po_are_rejected(ip: Emulator) -> None:
    assert _po(ip, "po_1006")["readonly"] is True
    put = ip.client.put("/api/v1/purchase-orders/po_1006", json={"purchase-order": {"status": "closed"}})
    items = ip.client.patch(
        "/api/v1/purchase-orders/po_1006/items", json={"items": [{"id": "li_1006_1", "received": 1}]}
    )
    assert put.status_code == 400 and items.status_code == 400
    assert _po(ip, "po_1006")["status"] == "open"


def test_receiving_is_absolute_and_moves_status(ip: Emulator) -> None:
    rows = {"items": [{"id": "li_1002_1", "received": 4}]}
    echo = ip.client.patch("/api/v1/purchase-orders/po_1002/items", json=rows).json()
    assert echo["items"][0] == {"id": "li_1002_1", "received": 4, "replenishment": 12, "remaining": 8}
    ip.client.patch("/api/v1/purchase-orders/po_1002/items", json=rows)  # a replay changes nothing
    po = _po(ip, "po_1002")
    line = po["items"][0]
    assert (line["received"], line["remaining"], po["total_received"]) == (4, 8, 4)
    assert [h["value"] for h in line["received_history"]] == [4]
    assert po["status"] == "partially received"
    full = [{"id": i["id"], "received": i["replenishment"]} for i in po["items"]]
    ip.client.patch("/api/v1/purchase-orders/po_1002/items", json={"items": full})
    assert _po(ip, "po_1002")["status"] == "closed"


def test_receiving_can_be_delta(start_ip) -> None:
    emulator = start_ip(receive_semantics="delta")
    rows = {"items": [{"id": "li_1002_1", "received": 4}]}
    emulator.client.patch("/api/v1/purchase-orders/po_1002/items", json=rows)
    emulator.client.patch("/api/v1/purchase-orders/po_1002/items", json=rows)
    assert _po(emulator, "po_1002")["items"][0]["received"] == 8


def test_strict_dates_store_strings_as_1969_12_31(start_ip) -> None:
    emulator = start_ip(date_mode="strict")
    assert _create(emulator, expected_date="2025-07-01")["expected_date"] == "1969-12-31"
    assert _create(emulator, expected_date=1751328000)["expected_date"] == "2025-07-01"


def test_lenient_dates_accept_strings_and_timestamps(ip: Emulator) -> None:
    assert _create(ip, expected_date="2025-07-01")["expected_date"] == "2025-07-01"
    assert _create(ip, expected_date=1751328000)["expected_date"] == "2025-07-01"


def test_costs_can_be_emitted_as_strings(start_ip) -> None:
    emulator = start_ip(costs_as_strings=True)
    assert _po(emulator, "po_1002")["items"][0]["cost_price"] == "4.50"


def test_editing_in_ip_ui_and_save_action_via_store(ip: Emulator) -> None:
    ip.store.edit_purchase_order("po_1006", {"notes": "edited by planner"})
    assert _po(ip, "po_1006")["notes"] == "edited by planner"


def test_variants_filter_create_fills_lines_with_to_order(ip: Emulator) -> None:
    ip.store.run_sync()
    body = {
        "warehouse": "c123_csv.02",
        "vendor": "v10000",
        "variants_filter": {"vendor": "v10000", "to_order_gt": 0},
    }
    po = ip.client.post("/api/v1/purchase-orders", json={"purchase-order": body}).json()["purchase-order"]
    assert po["items"] and all(i["replenishment"] > 0 for i in po["items"])

"""Auth and the Cloudflare-like edge (reference §4, §9, §11.1, §11.8)."""

from __future__ import annotations

import httpx

from tests.emulators.inventory_planner.conftest import Emulator


def test_missing_credentials_answer_401_with_result_envelope(ip: Emulator) -> None:
    response = httpx.get(f"{ip.base_url}/api/v1/purchase-orders", headers={"User-Agent": "t"})
    assert response.status_code == 401
    assert response.json()["result"]["status"] == "error"


def test_wrong_key_answers_403_with_result_envelope(ip: Emulator) -> None:
    headers = {"Authorization": "nope", "Account": "a1234", "User-Agent": "t"}
    response = httpx.get(f"{ip.base_url}/api/v1/purchase-orders", headers=headers)
    assert response.status_code == 403
    assert response.json()["result"]["status"] == "error"


def test_bearer_prefix_is_not_accepted(ip: Emulator) -> None:
    response = ip.get("/api/v1/purchase-orders", headers={"Authorization": "Bearer demo-ip-key"})
    assert response.status_code == 403


def test_empty_user_agent_is_blocked_like_cloudflare(ip: Emulator) -> None:
    response = ip.get("/api/v1/purchase-orders", headers={"User-Agent": ""})
    assert response.status_code == 403
    assert "cloudflare" in response.text


def test_unknown_paths_and_singular_variant_route_answer_403(ip: Emulator) -> None:
    assert ip.get("/api/v3/purchase-orders").status_code == 403
    assert ip.get("/api/v1/variant/c123_csv.A00001").status_code == 403
    assert ip.get("/api/v1/variants/c123_csv.A00001").status_code == 200


def test_every_nth_request_is_throttled_with_retry_after(start_ip) -> None:
    emulator = start_ip(faults={"throttle_every": 2, "retry_after_seconds": 7})
    first = emulator.get("/api/v1/purchase-orders")
    second = emulator.get("/api/v1/purchase-orders")
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "7"
    assert emulator.control("GET", "/stats").json()["faults"]["throttled"] == 1


def test_faults_change_at_runtime_and_injected_5xx_is_counted(ip: Emulator) -> None:
    ip.control("POST", "/faults", json={"error_rate": 1.0, "error_status": 502, "rng_seed": 1})
    assert ip.get("/api/v1/purchase-orders").status_code == 502
    ip.control("POST", "/faults", json={"error_rate": 0.0})
    assert ip.get("/api/v1/purchase-orders").status_code == 200
    assert ip.control("GET", "/stats").json()["faults"]["errors_injected"] == 1


def test_failed_create_answers_500_with_result_envelope(ip: Emulator) -> None:
    ip.control("POST", "/faults", json={"fail_next_creates": 1})
    body = {
        "purchase-order": {
            "warehouse": "c123_csv.01",
            "vendor": "v10000",
            "items": [{"sku": "A00001", "replenishment": 2}],
        }
    }
    failed = ip.client.post("/api/v1/purchase-orders", json=body)
    assert failed.status_code == 500
    assert failed.json() == {"result": {"status": "error", "message": "Failed to create purchase-order"}}
    assert ip.client.post("/api/v1/purchase-orders", json=body).status_code == 200


def test_requests_are_counted_by_route(ip: Emulator) -> None:
    ip.get("/api/v1/purchase-orders/po_1001")
    requests = ip.control("GET", "/stats").json()["requests"]
    assert requests["GET /api/v1/purchase-orders/{po_id}"] == 1

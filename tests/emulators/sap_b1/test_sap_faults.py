"""Fault knobs (reference §14.9) and the /_emulator/stats counters."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.emulators.sap_b1 import load_faults
from tests.emulators.sap_b1.conftest import buyable


def _gr(sl, item, qty=1, whs="01"):
    return sl.post(
        "InventoryGenEntries",
        json={"DocumentLines": [{"ItemCode": item, "Quantity": qty, "WarehouseCode": whs}]},
    )


def _statuses(sl, n, **faults):
    sl.control("POST", "/faults", json={"reset": True, **faults})
    return [sl.get("Warehouses").status_code for _ in range(n)]


def test_5xx_faults_are_html_and_reproducible_with_a_seed(sap):
    first = _statuses(sap, 30, seed=42, error_5xx_rate=0.3)
    second = _statuses(sap, 30, seed=42, error_5xx_rate=0.3)
    assert first == second and 502 in first and 200 in first
    sap.control("POST", "/faults", json={"reset": True, "error_5xx_rate": 1.0})
    response = sap.get("Warehouses")
    assert response.headers["content-type"].startswith("text/html") and "Proxy Error" in response.text


def test_deadlock_on_writes_only(sap):
    sap.control("POST", "/faults", json={"deadlock_rate": 1.0})
    assert sap.get("Warehouses").status_code == 200
    response = _gr(sap, buyable(sap)["ItemCode"])
    assert response.status_code == 400 and response.json()["error"]["code"] == "-2038"
    assert sap.control("GET", "/stats").json()["faults"]["deadlock"] == 1


def test_row_lock_contention_fails_the_later_overlapping_write(sap):
    item = buyable(sap)["ItemCode"]
    sap.control("POST", "/faults", json={"row_lock_contention": True, "write_latency_ms": 400})
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda _: _gr(sap, item), range(2)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 400]
    loser = next(r for r in responses if r.status_code == 400).json()["error"]
    assert loser["code"] == "-2038" and "OITW" in loser["message"]
    assert sap.control("GET", "/stats").json()["lock_conflicts"] == 1


def test_commit_then_drop_response_commits(sap):
    item = buyable(sap)["ItemCode"]
    sap.control("POST", "/faults", json={"commit_then_drop_rate": 1.0})
    response = _gr(sap, item)
    assert response.status_code == 502 and "<html>" in response.text
    sap.control("POST", "/faults", json={"reset": True})
    assert len(sap.get("InventoryGenEntries").json()["value"]) == 1  # it did commit


def test_session_expiry_every_n_requests(sap):
    sap.control("POST", "/faults", json={"session_expiry_every": 3})
    codes = [sap.get("Warehouses").status_code for _ in range(3)]
    assert codes == [200, 200, 401]
    assert sap.get("Warehouses").status_code == 401
    sap.login()
    assert sap.get("Warehouses").status_code == 200


def test_broken_node_until_relogin(sap):
    sap.control("POST", "/faults", json={"broken_node_rate": 1.0})
    response = sap.get("Warehouses")
    assert response.status_code == 500 and response.json()["error"]["code"] == "407"
    sap.control("POST", "/faults", json={"broken_node_rate": 0.0})
    assert sap.get("Warehouses").status_code == 500  # stays broken for this session
    sap.login()
    assert sap.get("Warehouses").status_code == 200


def test_max_concurrency_gives_503(sap):
    sap.control("POST", "/faults", json={"max_concurrency": 2, "latency_ms": 300})
    with ThreadPoolExecutor(5) as pool:
        codes = sorted(pool.map(lambda _: sap.get("Warehouses").status_code, range(5)))
    assert codes.count(200) == 2 and codes.count(503) == 3


def test_timeout_hangs_past_the_client_timeout(sap):
    sap.control("POST", "/faults", json={"timeout_rate": 1.0, "timeout_hang_s": 2})
    with pytest.raises(httpx.ReadTimeout):
        sap.get("Warehouses", timeout=0.3)


def test_latency(sap):
    sap.control("POST", "/faults", json={"latency_ms": 250})
    response = sap.get("Warehouses")
    assert response.elapsed.total_seconds() >= 0.25


def test_faults_from_file_and_env(tmp_path, monkeypatch):
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"deadlock_rate": 0.5, "seed": 9}))
    monkeypatch.setenv("B1EMU_FAULTS", '{"seed": 11}')
    faults = load_faults(str(path))
    assert (faults.deadlock_rate, faults.seed) == (0.5, 11)
    yaml_path = tmp_path / "faults.yaml"
    yaml_path.write_text("latency_ms: 5\n")
    monkeypatch.delenv("B1EMU_FAULTS")
    assert load_faults(str(yaml_path)).latency_ms == 5


def test_stats_count_requests_logins_and_documents(sap):
    sap.get("Items('A00001')")
    _gr(sap, buyable(sap)["ItemCode"])
    stats = sap.control("GET", "/stats").json()
    assert stats["requests_by_route"]["GET Items(key)"] == 1
    assert stats["requests_by_route"]["POST Login"] == 1
    assert stats["documents_created"] == {"InventoryGenEntries": 1}
    assert stats["logins"] == 1 and stats["sessions"] == 1


def test_emulator_helpers_change_the_world(sap):
    item = buyable(sap)["ItemCode"]
    sap.control("POST", "/stock", json={"ItemCode": item, "WarehouseCode": "01", "InStock": 77})
    rows = sap.get(f"Items('{item}')").json()["ItemWarehouseInfoCollection"]
    assert rows[0]["InStock"] == 77
    sap.control("POST", "/items", json={"ItemCode": "NEW1", "ItemName": "New"})
    assert sap.get("Items('NEW1')").status_code == 200
    code = sap.store.periods[-1]["PeriodCode"]
    sap.control("POST", "/periods", json={"PeriodCode": code, "PeriodStatus": "ltLocked"})
    assert sap.store.periods[-1]["PeriodStatus"] == "ltLocked"
    sap.control("POST", "/sessions/expire")
    assert sap.get("Warehouses").status_code == 401

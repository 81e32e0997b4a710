"""Sessions (reference §2, §14.1): cookies, expiry, logout, login errors, parallel logins."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.emulators.sap_b1.conftest import CREDENTIALS


def test_login_sets_b1session_without_path_and_routeid_with_path(start_sap):
    sl = start_sap(login=False)
    response = sl.login()
    cookies = response.headers.get_list("set-cookie")
    session_id = response.json()["SessionId"]
    assert cookies[0] == f"B1SESSION={session_id};HttpOnly;"
    assert cookies[1] == "ROUTEID=.node1; path=/b1s"
    body = response.json()
    assert body["Version"] == "1000110" and body["SessionTimeout"] == 30
    assert body["@odata.context"].endswith("/b1s/v2/$metadata#B1Sessions/$entity")


def test_v1_login_uses_v3_annotations(start_sap):
    sl = start_sap(login=False)
    body = sl.login("v1").json()
    assert body["odata.metadata"].endswith("/b1s/v1/$metadata#B1Sessions/@Element")


def test_one_session_works_on_both_roots(sap):
    assert sap.get("Warehouses", version="v1").status_code == 200
    assert sap.get("Warehouses", version="v2").status_code == 200


def test_missing_and_garbage_sessions_get_401_code_301(sap):
    sap.cookie = ""
    v1 = sap.get("Items", version="v1")
    assert v1.status_code == 401
    assert v1.json() == {
        "error": {
            "code": 301,
            "message": {"lang": "en-us", "value": "Invalid session or session already timeout."},
        }
    }
    sap.cookie = "B1SESSION=not-a-session"
    v2 = sap.get("Items")
    assert v2.status_code == 401 and v2.json()["error"]["code"] == "301"


def test_idle_timeout_slides(start_sap):
    sl = start_sap(session_timeout_s=0.6)
    for _ in range(4):  # a call every 0.3 s keeps the session alive past its timeout
        time.sleep(0.3)
        assert sl.get("Warehouses").status_code == 200
    time.sleep(0.8)
    assert sl.get("Warehouses").status_code == 401


def test_forced_expiry_by_the_store(sap):
    sap.store.expire_sessions()
    assert sap.get("Warehouses").status_code == 401


def test_logout_then_session_is_invalid(sap):
    assert sap.post("Logout").status_code == 204
    assert sap.get("Warehouses").status_code == 401


def test_bad_password_and_unknown_company(start_sap):
    sl = start_sap(login=False)
    bad = sl.login(Password="wrong")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "-304"
    unknown = sl.login("v1", CompanyDB="NOPE")
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == -306


def test_too_many_parallel_logins_fail_with_299(start_sap):
    sl = start_sap(login=False, login_delay_ms=300, max_parallel_logins=6)

    def login(_):
        return sl.http.post("/b1s/v2/Login", json=CREDENTIALS).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(login, range(8)))
    assert codes == [200] * 6 + [500] * 2
    assert sl.store.stats.login_failures["299"] == 2

"""Fixtures: the SAP B1 Service Layer emulator under uvicorn on a loopback port, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from app.emulators.sap_b1 import EmulatorConfig, FaultConfig, create_app
from app.emulators.sap_b1.store import SapStore
from tests.support.server import serve

CREDENTIALS = {"CompanyDB": "SBODEMOUS", "UserName": "manager", "Password": "demo-password"}


class SL:
    """One emulator plus a raw httpx client; `login()` sets the B1SESSION cookie by hand, as
    reference §13 advises (the cookie has no Path)."""

    def __init__(self, base_url: str, store: SapStore) -> None:
        self.base_url = base_url
        self.store = store
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.cookie = ""

    def login(self, version: str = "v2", **overrides: Any) -> httpx.Response:
        response = self.http.post(f"/b1s/{version}/Login", json={**CREDENTIALS, **overrides})
        if response.status_code == 200:
            self.cookie = f"B1SESSION={response.json()['SessionId']}; ROUTEID=.node1"
        return response

    def request(self, method: str, path: str, version: str = "v2", **kwargs: Any) -> httpx.Response:
        headers = {"Cookie": self.cookie, **kwargs.pop("headers", {})}
        url = path if path.startswith("/") else f"/b1s/{version}/{path}"
        return self.http.request(method, url, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"/_emulator{path}", **kwargs)


@pytest.fixture
def start_sap() -> Iterator[Callable[..., SL]]:
    """Start an emulator with config overrides (`faults=` takes a dict); stopped after the test."""
    with ExitStack() as stack:

        def start(login: bool = True, **overrides: Any) -> SL:
            if isinstance(overrides.get("faults"), dict):
                overrides["faults"] = FaultConfig(**overrides["faults"])
            app = create_app(EmulatorConfig(**{"items": 60, "login_delay_ms": 0, **overrides}))
            sl = SL(stack.enter_context(serve(app)), app.state.sap)
            stack.callback(sl.http.close)
            if login:
                assert sl.login().status_code == 200
            return sl

        yield start


@pytest.fixture
def sap(start_sap: Callable[..., SL]) -> SL:
    return start_sap()


def first_item(sl: SL, **where: str) -> dict[str, Any]:
    """The first seeded item matching simple equality conditions (test data lookup)."""
    for key in sl.store.table("Items").keys:
        row = sl.store.table("Items").rows[key]
        if all(row.get(k) == v for k, v in where.items()):
            return row
    raise LookupError(where)


def buyable(sl: SL) -> dict[str, Any]:
    return first_item(sl, Valid="tYES", Frozen="tNO", InventoryItem="tYES", PurchaseItem="tYES")

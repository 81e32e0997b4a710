"""Starter CSV fetch (reference §2.1, §11.9): HEAD then GET with basic auth, full snapshot per warehouse."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from tests.emulators.inventory_planner.conftest import Emulator
from tests.support.server import serve

HEADER = "product_id,title,price,SKU,created_at,stock_quantity,barcode\n"
THREE = (
    HEADER + "P1,One,1,A00001,2025-01-01,5,\nP2,Two,2,A00002,2025-01-01,6,\nP3,Three,3,A00003,2025-01-01,7,\n"
)
TWO = HEADER + "P1,One,1,A00001,2025-01-01,8,\nP2,Two,2,A00002,2025-01-01,6,\n"


class Feed:
    def __init__(self) -> None:
        self.body = THREE
        self.status = 200
        self.methods: list[str] = []
        self.app = FastAPI()
        self.app.api_route("/feed.csv", methods=["GET", "HEAD"])(self.handle)

    async def handle(self, request: Request) -> Response:
        self.methods.append(request.method)
        expected = "Basic " + base64.b64encode(b"ip:feed-pass").decode()
        if request.headers.get("authorization") != expected:
            return Response(status_code=401)
        return Response(self.body, status_code=self.status, media_type="text/csv")


@pytest.fixture
def feed() -> Iterator[tuple[Feed, str]]:
    feed = Feed()
    with serve(feed.app) as url:
        yield feed, url + "/feed.csv"


def _connect(ip: Emulator, url: str, password: str = "feed-pass") -> None:
    connector = {"warehouse": "c123_csv.01", "url": url, "username": "ip", "password": password}
    assert ip.control("POST", "/starter/connectors", json={"connectors": [connector]}).status_code == 200


def _fetch(ip: Emulator) -> dict[str, Any]:
    report: dict[str, Any] = ip.control("POST", "/starter/fetch").json()["connectors"][0]
    return report


def test_fetch_sends_head_then_get_and_replaces_products(ip: Emulator, feed) -> None:
    server, url = feed
    _connect(ip, url)
    assert _fetch(ip)["ok"] is True
    assert server.methods == ["HEAD", "GET"]
    assert ip.store.read_stock()["c123_csv.A00003"]["c123_csv.01"] == 7


def test_product_missing_from_the_file_is_deleted(ip: Emulator, feed) -> None:
    server, url = feed
    _connect(ip, url)
    _fetch(ip)
    server.body = TWO
    report = _fetch(ip)
    assert report["deleted"] == 1
    assert ip.store.stock_of("A00003", "c123_csv.01") is None
    assert ip.store.stock_of("A00001", "c123_csv.01") == 8


def test_401_changes_nothing_and_is_recorded(ip: Emulator, feed) -> None:
    _, url = feed
    _connect(ip, url)
    _fetch(ip)
    _connect(ip, url, password="wrong")
    report = _fetch(ip)
    assert report["ok"] is False and "401" in report["error"]
    assert ip.store.stock_of("A00003", "c123_csv.01") == 7
    fetches = ip.control("GET", "/stats").json()["starter"]["fetches"]
    assert [f["ok"] for f in fetches] == [True, False]


def test_server_error_and_bad_columns_change_nothing(ip: Emulator, feed) -> None:
    server, url = feed
    _connect(ip, url)
    _fetch(ip)
    server.status = 503
    assert "503" in _fetch(ip)["error"]
    server.status, server.body = 200, "product_id,title,SKU\nP1,One,A00001\n"
    assert "price" in _fetch(ip)["error"]
    assert ip.store.stock_of("A00003", "c123_csv.01") == 7

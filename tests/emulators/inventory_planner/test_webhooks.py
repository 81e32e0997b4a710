"""Webhook subscriptions and the connection-save emitter (reference §8, §11.7)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from tests.emulators.inventory_planner.conftest import Emulator
from tests.support.server import serve


class Receiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.calls = 0
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.app = FastAPI()
        self.app.post("/hooks/ip/token")(self.handle)

    async def handle(self, request: Request) -> Response:
        self.calls += 1
        if self.calls <= self.fail_first:
            return Response(status_code=503)
        self.bodies.append(await request.json())
        self.headers.append(dict(request.headers))
        return Response(status_code=204)


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    stack: list[Any] = []

    def make(fail_first: int = 0) -> tuple[Receiver, str]:
        receiver = Receiver(fail_first)
        context = serve(receiver.app)
        stack.append(context)
        return receiver, context.__enter__() + "/hooks/ip/token"

    yield make
    for context in stack:
        context.__exit__(None, None, None)


def _subscribe(ip: Emulator, address: str, fields: str = "id,reference,items.id,items.sku") -> dict[str, Any]:
    body = {"address": address, "fields": fields, "topic": "purchase-orders/connection-save"}
    return ip.client.post("/api/v1/webhooks", json=body).json()["webhook"]


def _wait(predicate: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _webhook_stats(ip: Emulator) -> dict[str, Any]:
    return ip.control("GET", "/stats").json()["webhooks"]


def test_subscription_crud_is_paged(ip: Emulator) -> None:
    hook = _subscribe(ip, "http://127.0.0.1:9/a")
    _subscribe(ip, "http://127.0.0.1:9/b")
    listed = ip.get("/api/v1/webhooks", params={"limit": 1}).json()
    assert listed["meta"]["total"] == 2 and listed["meta"]["count"] == 1
    updated = ip.client.put(f"/api/v1/webhooks/{hook['id']}", json={"address": "http://127.0.0.1:9/c"})
    assert updated.json()["webhook"]["address"] == "http://127.0.0.1:9/c"
    assert ip.client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert ip.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404


def test_save_to_connection_posts_projected_po_without_signature_and_retries(
    ip: Emulator, receiver_factory
) -> None:
    receiver, address = receiver_factory(fail_first=2)
    _subscribe(ip, address)
    ip.control("POST", "/purchase-orders/po_1002/save-to-connection")
    _wait(lambda: receiver.bodies)
    assert receiver.bodies[0] == {
        "purchase-order": {
            "id": "po_1002",
            "reference": "PO-1002",
            "items": [
                {"id": "li_1002_1", "sku": "A00003"},
                {"id": "li_1002_2", "sku": "A00004"},
                {"id": "li_1002_3", "sku": "A00005"},
            ],
        }
    }
    assert not any("signature" in name for name in receiver.headers[0])
    stats = _webhook_stats(ip)
    assert (stats["sent"], stats["retried"], stats["failed"]) == (1, 2, 0)


def test_delivery_gives_up_after_bounded_attempts(start_ip, receiver_factory) -> None:
    emulator = start_ip(webhooks={"max_attempts": 3, "backoff_seconds": 0.01})
    receiver, address = receiver_factory(fail_first=99)
    _subscribe(emulator, address)
    emulator.control("POST", "/purchase-orders/po_1002/save-to-connection")
    _wait(lambda: _webhook_stats(emulator)["failed"] == 1)
    assert receiver.calls == 3


def test_duplicate_mode_delivers_twice(ip: Emulator, receiver_factory) -> None:
    receiver, address = receiver_factory()
    _subscribe(ip, address, fields="id")
    ip.control("POST", "/faults", json={"webhooks": {"mode": "duplicate"}})
    ip.control("POST", "/purchase-orders/po_1002/save-to-connection")
    _wait(lambda: len(receiver.bodies) == 2)
    assert receiver.bodies[0] == receiver.bodies[1] == {"purchase-order": {"id": "po_1002"}}


def test_dropped_mode_delivers_nothing_and_counts_it(ip: Emulator, receiver_factory) -> None:
    receiver, address = receiver_factory()
    _subscribe(ip, address)
    ip.control("POST", "/faults", json={"webhooks": {"mode": "dropped"}})
    ip.control("POST", "/purchase-orders/po_1002/save-to-connection")
    time.sleep(0.2)
    assert receiver.calls == 0 and _webhook_stats(ip)["dropped"] == 1


def test_reordered_mode_delivers_newest_first(ip: Emulator, receiver_factory) -> None:
    receiver, address = receiver_factory()
    _subscribe(ip, address, fields="id")
    ip.control("POST", "/faults", json={"webhooks": {"mode": "reordered", "delay_seconds": 0.2}})
    ip.control("POST", "/purchase-orders/po_1002/save-to-connection")
    ip.control("POST", "/purchase-orders/po_1004/save-to-connection")
    _wait(lambda: len(receiver.bodies) == 2)
    assert [b["purchase-order"]["id"] for b in receiver.bodies] == ["po_1004", "po_1002"]


def test_saving_a_draft_places_it_and_bumps_version(ip: Emulator, receiver_factory) -> None:
    before = ip.get("/api/v1/purchase-orders/po_1001").json()["purchase-order"]
    saved = ip.control("POST", "/purchase-orders/po_1001/save-to-connection").json()["purchase-order"]
    assert saved["status"] == "open" and saved["version"] == before["version"] + 1


def test_store_method_from_test_thread_delivers_on_server_loop(ip: Emulator, receiver_factory) -> None:
    receiver, address = receiver_factory(fail_first=1)
    _subscribe(ip, address, fields="id")
    ip.store.save_to_connection_blocking("po_1003")
    _wait(lambda: receiver.bodies)
    assert receiver.bodies == [{"purchase-order": {"id": "po_1003"}}]

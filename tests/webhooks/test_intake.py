"""Webhook intake over the app: token, size, JSON, signatures, replay, dedupe, stored before 202."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select

from app.config import InventoryPlannerSettings
from app.db import migrate
from app.db.session import session_scope
from app.main import create_app
from app.models.outbox import OutboxMessage
from app.models.webhook import WebhookDelivery
from app.webhooks.signatures import sign
from tests.conftest import make_settings

pytestmark = pytest.mark.asyncio
TOKEN = "webhook-token-for-tests-0123456789"
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
URL = f"/webhooks/inventory-planner/{TOKEN}"


async def _client(
    tmp_path: Path, database_url: str | None, secret: str | None
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        tmp_path,
        database_url,
        ip=InventoryPlannerSettings(
            webhook_token=SecretStr(TOKEN), webhook_signing_secret=SecretStr(secret) if secret else None
        ),
    )
    await asyncio.to_thread(migrate.upgrade, settings)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with session_scope(app.state.sessionmaker) as session:
            for table in (OutboxMessage, WebhookDelivery):
                for row in (await session.exec(select(table))).all():
                    await session.delete(row)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def plain(tmp_path: Path, database_url: str | None) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(tmp_path, database_url, None):
        yield client


@pytest.fixture
async def signed(tmp_path: Path, database_url: str | None) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(tmp_path, database_url, SECRET):
        yield client


async def _count(client: httpx.AsyncClient) -> tuple[int, int]:
    async with session_scope(client.app.state.sessionmaker) as session:  # type: ignore[attr-defined]
        deliveries = len((await session.exec(select(WebhookDelivery))).all())
        jobs = len((await session.exec(select(OutboxMessage))).all())
    return deliveries, jobs


def _signed_headers(body: bytes, msg_id: str = "msg_1", ts: int | None = None) -> dict[str, str]:
    stamp = str(ts if ts is not None else int(time.time()))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": sign(SECRET, msg_id, stamp, body),
        "content-type": "application/json",
    }


async def test_a_delivery_is_stored_and_queues_a_refetch(plain: httpx.AsyncClient) -> None:
    response = await plain.post(URL, json={"purchase-order": {"id": "po_1", "last_modified": "2031-01-01"}})
    assert response.status_code == 202 and response.json()["po_ids"] == ["po_1"]
    assert await _count(plain) == (1, 1)


async def test_duplicates_are_acknowledged_and_stored_once(plain: httpx.AsyncClient) -> None:
    body = {"purchase-order": {"id": "po_1", "last_modified": "2031-01-01"}}
    answers = [(await plain.post(URL, json=body)).json()["duplicate"] for _ in range(3)]
    assert answers == [False, True, True]
    assert await _count(plain) == (1, 1)


async def test_concurrent_duplicates_store_one_delivery(plain: httpx.AsyncClient) -> None:
    body = {"purchase-order": {"id": "po_1", "last_modified": "2031-01-01"}}
    responses = await asyncio.gather(*(plain.post(URL, json=body) for _ in range(8)))
    assert {r.status_code for r in responses} == {202}
    answers = [r.json() for r in responses]
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 7
    assert len({a["delivery_id"] for a in answers}) == 1  # duplicates name the stored delivery
    assert await _count(plain) == (1, 1)


async def test_a_wrong_token_stores_nothing(plain: httpx.AsyncClient) -> None:
    assert (await plain.post("/webhooks/inventory-planner/nope", json={"id": "po_1"})).status_code == 401
    assert await _count(plain) == (0, 0)


async def test_an_oversized_body_is_refused(plain: httpx.AsyncClient) -> None:
    big = b'{"id":"po_1","pad":"' + b"x" * 300_000 + b'"}'
    assert (await plain.post(URL, content=big)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while streaming
        for _ in range(40):
            yield b"x" * 10_000

    assert (await plain.post(URL, content=chunks())).status_code == 413
    assert await _count(plain) == (0, 0)


async def test_json_without_a_po_id_is_unprocessable(plain: httpx.AsyncClient) -> None:
    assert (await plain.post(URL, content=b"not json")).status_code == 422
    assert (await plain.post(URL, json={"nothing": 1})).status_code == 422
    assert await _count(plain) == (0, 0)


async def test_signed_deliveries_are_verified(signed: httpx.AsyncClient) -> None:
    body = b'{"purchase-order":{"id":"po_1"}}'
    assert (await signed.post(URL, content=body, headers=_signed_headers(body))).status_code == 202
    assert (await signed.post(URL, content=body)).status_code == 401  # unsigned
    forged = _signed_headers(body, "msg_2")
    assert (await signed.post(URL, content=body + b" ", headers=forged)).status_code == 401
    assert await _count(signed) == (1, 1)


async def test_replays_are_refused(signed: httpx.AsyncClient) -> None:
    body = b'{"purchase-order":{"id":"po_1"}}'
    headers = _signed_headers(body)
    assert (await signed.post(URL, content=body, headers=headers)).status_code == 202
    assert (await signed.post(URL, content=body, headers=headers)).status_code == 409  # same webhook-id
    stale = _signed_headers(body, "msg_old", ts=int(time.time()) - 3600)
    assert (await signed.post(URL, content=body, headers=stale)).status_code == 409
    assert await _count(signed) == (1, 1)


async def test_concurrent_deliveries_share_transactions_and_each_gets_its_answer(
    plain: httpx.AsyncClient,
) -> None:
    """Twenty deliveries at once (ten POs, each sent twice) commit in a few group-committed
    transactions, not twenty; every new one is stored once and every duplicate names it."""
    from sqlalchemy import event

    engine = plain.app.state.runtime.engine  # type: ignore[attr-defined]
    commits = 0

    def counted(_connection: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", counted)
    bodies = [{"purchase-order": {"id": f"po_{n % 10}", "last_modified": "2031-01-01"}} for n in range(20)]
    try:
        responses = await asyncio.gather(*(plain.post(URL, json=body) for body in bodies))
    finally:
        event.remove(engine.sync_engine, "commit", counted)
    assert {r.status_code for r in responses} == {202}
    answers = [r.json() for r in responses]
    assert sum(not a["duplicate"] for a in answers) == 10
    for po in range(10):
        mine = [a for n, a in enumerate(answers) if n % 10 == po]
        assert len({a["delivery_id"] for a in mine}) == 1 and mine[0]["po_ids"] == [f"po_{po}"]
    assert await _count(plain) == (10, 10)
    assert commits < 10


async def test_concurrent_replays_of_one_signed_message_store_it_once(signed: httpx.AsyncClient) -> None:
    body = b'{"purchase-order":{"id":"po_1"}}'
    headers = _signed_headers(body)
    responses = await asyncio.gather(*(signed.post(URL, content=body, headers=headers) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [202] + [409] * 5
    assert await _count(signed) == (1, 1)

"""Request ids and the request span around a webhook delivery (the path token is a secret)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlmodel import select

from app.db.session import session_scope
from app.models.outbox import OutboxMessage
from tests.support.spans import recorded_spans
from tests.webhooks.test_intake import TOKEN, URL, _client

pytestmark = pytest.mark.asyncio
BODY = {"purchase-order": {"id": "po_1", "last_modified": "2031-01-01"}}


@pytest.fixture
async def plain(tmp_path: Path, database_url: str | None) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(tmp_path, database_url, None):
        yield client


@pytest.fixture
def spans(plain: httpx.AsyncClient) -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


async def test_the_request_id_is_echoed_and_reaches_the_queued_job(plain: httpx.AsyncClient) -> None:
    response = await plain.post(URL, json=BODY, headers={"X-Request-ID": "req-from-ip-1"})
    assert response.status_code == 202 and response.headers["x-request-id"] == "req-from-ip-1"
    async with session_scope(plain.app.state.sessionmaker) as session:  # type: ignore[attr-defined]
        job = (await session.exec(select(OutboxMessage))).one()
    assert job.request_id == "req-from-ip-1"


async def test_errors_are_problem_details_with_a_request_id(plain: httpx.AsyncClient) -> None:
    response = await plain.post("/webhooks/inventory-planner/wrong", json=BODY)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.headers["x-request-id"]) == 32  # generated when the caller sends none


async def test_the_span_names_the_route_and_never_the_token(
    plain: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    response = await plain.post(URL, json=BODY, headers={"X-Request-ID": "req-2"})
    assert response.status_code == 202
    server = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert [s.name for s in server] == ["POST /webhooks/inventory-planner/{token}"]
    attributes = dict(server[0].attributes or {})
    assert attributes["b1bridge.request_id"] == "req-2"
    assert attributes["http.response.status_code"] == 202
    recorded = [(s.name, dict(s.attributes or {})) for s in spans.get_finished_spans()]
    assert TOKEN not in repr(recorded)

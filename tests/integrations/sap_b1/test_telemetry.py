"""Spans and log events carry what operators need and never a secret."""

from __future__ import annotations

import logging

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.integrations.sap_b1 import client as client_module
from app.integrations.sap_b1.errors import SapPeriodLocked

from .fakes import FakeSL


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(client_module, "tracer", provider.get_tracer("test"))
    return exporter


async def test_every_call_has_a_span_with_entity_status_and_code(spans: InMemorySpanExporter) -> None:
    fake = FakeSL()
    fake.route("GET", "Items('A1')")(lambda r: httpx.Response(200, json={"ItemCode": "A1"}))
    fake.route("POST", "InventoryGenEntries")(lambda r: fake.error(400, -4013, "Posting period locked"))
    async with fake.client() as client:
        await client.get("Items", "A1")
        with pytest.raises(SapPeriodLocked):
            await client.create("InventoryGenEntries", {"DocDate": "2025-01-01"})
    ok, failed = spans.get_finished_spans()
    assert ok.attributes is not None and failed.attributes is not None
    assert dict(ok.attributes) == {"sap.entity": "Items", "http.method": "GET", "http.status_code": 200}
    assert failed.attributes["sap.entity"] == "InventoryGenEntries"
    assert failed.attributes["sap.code"] == -4013 and failed.attributes["http.status_code"] == 400


async def test_logs_and_spans_never_hold_the_password_or_session(
        spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeSL()
    fake.route("GET", "Items('A1')")(lambda r: httpx.Response(200, json={"ItemCode": "A1"}))
    async with fake.client() as client:
        await client.login()
        fake.expire_all()
        await client.get("Items", "A1")
    assert any(r.getMessage() == "sap.relogin" for r in caplog.records)
    dumped = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    dumped += " ".join(str(dict(s.attributes or {})) for s in spans.get_finished_spans())
    assert "secret" not in dumped and "sess-1" not in dumped and "sess-2" not in dumped

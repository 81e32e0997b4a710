"""The purge of processed webhook deliveries: retention, never an unprocessed one, cron and CLI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db.session import session_scope
from app.kit.time import utcnow
from app.models.webhook import WebhookDelivery
from app.outbox import relay
from app.runtime import Runtime
from app.webhooks import cli as webhook_commands  # noqa: F401  (attaches `ip webhooks purge`)
from app.webhooks import tasks
from app.worker import settings as worker_settings
from tests.webhooks.test_intake import URL, _client

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def plain(tmp_path: Path, database_url: str | None) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(tmp_path, database_url, None):
        yield client


def _runtime(client: httpx.AsyncClient) -> Runtime:
    return client.app.state.runtime  # type: ignore[attr-defined,no-any-return]


async def _deliver(client: httpx.AsyncClient, po_id: str, *, days_ago: int) -> str:
    body = {"purchase-order": {"id": po_id, "last_modified": "2031-01-01"}}
    response = await client.post(URL, json=body)
    assert response.status_code == 202
    delivery_id: str = response.json()["delivery_id"]
    async with session_scope(_runtime(client).sessionmaker) as session:
        await session.exec(  # type: ignore[call-overload]
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == delivery_id)
            .values(received_at=utcnow() - timedelta(days=days_ago))
        )
    return delivery_id


async def _relay(client: httpx.AsyncClient) -> None:
    runtime = _runtime(client)
    await relay.relay_once(runtime.sessionmaker, runtime.redis, queue_name=runtime.queue_name)


async def _stored(client: httpx.AsyncClient) -> set[str]:
    async with session_scope(_runtime(client).sessionmaker) as session:
        return set((await session.exec(select(WebhookDelivery.id))).all())


async def test_processed_deliveries_past_the_retention_are_deleted(plain: httpx.AsyncClient) -> None:
    old = await _deliver(plain, "po_old", days_ago=31)
    recent = await _deliver(plain, "po_recent", days_ago=29)
    await _relay(plain)
    assert await tasks.purge(_runtime(plain)) == 1  # the default retention: 30 days
    assert await _stored(plain) == {recent}
    assert old not in await _stored(plain)


async def test_an_unprocessed_delivery_is_kept_however_old(plain: httpx.AsyncClient) -> None:
    await _deliver(plain, "po_1", days_ago=90)
    await _relay(plain)
    waiting = await _deliver(plain, "po_2", days_ago=90)  # its ingest job is still in the outbox
    assert await tasks.purge(_runtime(plain)) == 1
    assert await _stored(plain) == {waiting}
    await _relay(plain)
    assert await tasks.purge(_runtime(plain)) == 1 and await _stored(plain) == set()


async def test_purging_goes_in_batches(plain: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        await _deliver(plain, f"po_{n}", days_ago=40)
    await _relay(plain)
    monkeypatch.setattr(tasks, "BATCH", 2)
    assert await tasks.purge(_runtime(plain)) == 5 and await _stored(plain) == set()


async def test_a_retention_of_zero_keeps_everything_and_schedules_nothing(plain: httpx.AsyncClient) -> None:
    kept = await _deliver(plain, "po_1", days_ago=400)
    await _relay(plain)
    settings = _runtime(plain).settings
    assert await tasks.purge(_runtime(plain), retention_days=0) == 0 and await _stored(plain) == {kept}
    assert (
        tasks.cron_jobs(
            settings.model_copy(
                update={"writeback": settings.writeback.model_copy(update={"webhook_retention_days": 0})}
            )
        )
        == []
    )


async def test_the_worker_runs_the_purge_daily(plain: httpx.AsyncClient) -> None:
    settings = _runtime(plain).settings
    assert tasks.PURGE_JOB in {f.name for f in worker_settings.functions()}
    crons = {c.name: c for c in worker_settings.cron_jobs(settings)}
    assert crons[tasks.PURGE_JOB].hour == {3} and crons[tasks.PURGE_JOB].minute == {40}


async def test_the_cli_purges_with_its_own_retention(
    plain: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = await _deliver(plain, "po_old", days_ago=10)
    recent = await _deliver(plain, "po_recent", days_ago=3)
    await _relay(plain)
    settings = _runtime(plain).settings
    monkeypatch.setenv("B1BRIDGE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["ip", "webhooks", "purge", "--days", "7"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "1 deliveries deleted" in result.output
    assert await _stored(plain) == {recent} and old not in await _stored(plain)

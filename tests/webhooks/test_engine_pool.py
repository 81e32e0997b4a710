"""The PostgreSQL pool pings a connection only when it sat idle (pool_pre_ping cost a round trip
per checkout, two with asyncpg): a dead idle connection is replaced before anyone sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import engine as engine_module
from tests.conftest import make_settings

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def engine(tmp_path: Path, database_url: str | None) -> AsyncIterator[AsyncEngine]:
    if database_url is None:
        pytest.skip("PostgreSQL only (DATABASE_URL): SQLite has no server to lose connections to")
    built = engine_module.create_engine(make_settings(tmp_path, database_url))
    yield built
    await built.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("select pg_backend_pid()"))).scalar_one())


async def _kill(engine: AsyncEngine, pid: int) -> None:
    async with engine.connect() as connection:  # a second pooled connection does the killing
        await connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})


async def test_an_idle_connection_that_died_is_replaced_at_checkout(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as first, engine.connect():
        pid = int((await first.execute(text("select pg_backend_pid()"))).scalar_one())
    await _kill(engine, pid)
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)  # everything counts as idle
    assert await _backend_pid(engine) != pid


async def test_a_connection_used_moments_ago_is_not_pinged(engine: AsyncEngine) -> None:
    async with engine.connect() as first, engine.connect():
        pid = int((await first.execute(text("select pg_backend_pid()"))).scalar_one())
    await _kill(engine, pid)
    # Not idle long enough to be pinged: the dead connection surfaces once, then the pool has
    # thrown away every connection older than the failure and the next checkout is fresh.
    with pytest.raises(DBAPIError):
        for _ in range(2):  # the killer's connection may come out first
            assert await _backend_pid(engine) != pid
    assert await _backend_pid(engine) != pid

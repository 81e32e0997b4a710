"""Migrations run both ways on a fresh database and match the models exactly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.db import migrate
from tests.conftest import make_settings
from tests.support.databases import fresh_database


@pytest.fixture
def empty_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    with fresh_database(os.environ.get("DATABASE_URL")) as url:
        yield make_settings(tmp_path, url)


def _differences(connection):  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, SQLModel.metadata)


async def _diff(url: str) -> list[object]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(_differences)
    await engine.dispose()
    return list(diff)


def test_upgrade_downgrade_upgrade_round_trip(empty_settings) -> None:  # type: ignore[no-untyped-def]
    migrate.upgrade(empty_settings)
    migrate.downgrade(empty_settings, "base")
    migrate.upgrade(empty_settings)


async def test_models_and_migrations_agree(empty_settings) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    await asyncio.to_thread(migrate.upgrade, empty_settings)
    assert await _diff(empty_settings.resolved_database_url) == []

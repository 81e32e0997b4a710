"""The composition root shared by the API process and the worker: settings, database, Redis, clients.

The SAP and IP clients are long-lived (one httpx client per system) and created on first use, so a
process that never talks to SAP (e.g. `b1bridge migrate`) never logs in.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db.engine import create_engine, sessionmaker
from app.kit import redis as redis_kit


def freeze_start_up() -> None:
    """Leave what start-up built (modules, mappers, settings), which lives as long as the process,
    out of every later garbage collection: a full collection walked all of it, a ~100 ms pause of
    every request and job in flight. Called by the API's lifespan and the worker's start-up."""
    gc.collect()
    gc.freeze()


def make_arq_redis(settings: Settings) -> ArqRedis:
    """A lazily connecting arq pool: the API starts (and reports not-ready) while Redis is down."""
    common: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 2}
    if settings.redis_url:
        return ArqRedis.from_url(settings.redis_url, **common)
    return ArqRedis(unix_socket_path=redis_kit.embedded_socket(settings.data_dir),
                    client_name=redis_kit.client_name(), **common)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    _clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings)
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker(engine),
            redis=make_arq_redis(settings),
        )

    @property
    def queue_name(self) -> str:
        return redis_kit.queue_name(self.settings)

    def client(self, name: str, factory: Any) -> Any:
        """The one long-lived client called `name`, built by `factory(runtime)` on first use."""
        if name not in self._clients:
            self._clients[name] = factory(self)
        return self._clients[name]

    async def close(self) -> None:
        for client in reversed(list(self._clients.values())):
            await client.aclose()
        self._clients.clear()
        await self.redis.aclose()
        await self.engine.dispose()

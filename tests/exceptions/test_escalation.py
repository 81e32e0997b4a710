"""The escalation task, run directly against a small receiver served over real HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from sqlmodel import select

from app.db.session import session_scope
from app.exceptions import service as exceptions
from app.exceptions import tasks
from app.models.exception import ExceptionType
from app.models.outbox import OutboxMessage
from app.runtime import Runtime
from tests.support.server import serve


def _receiver(received: list[dict[str, Any]]) -> FastAPI:
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        received.append(await request.json())
        return {"ok": True}

    return receiver


@pytest.fixture
async def runtime_for(app: Any, clean: None) -> AsyncIterator[Any]:
    made: list[Runtime] = []

    def build(url: str | None) -> Runtime:
        base: Runtime = app.state.runtime
        settings = base.settings.model_copy(update={"escalation_webhook_url": url})
        runtime = dataclasses.replace(base, settings=settings, _clients={})
        made.append(runtime)
        return runtime

    yield build
    for runtime in made:  # the engine and Redis belong to the app; only our clients are ours to close
        for client in runtime._clients.values():
            await client.aclose()


async def _raise_error(app: Any) -> tuple[str, OutboxMessage]:
    async with session_scope(app.state.runtime.sessionmaker) as session:
        row = await exceptions.raise_exception(session, ExceptionType.LOCKED_PERIOD, {"date": "2026-11-30"},
                                               message="GRPO 17 dated in a closed period")
        message = (await session.exec(select(OutboxMessage))).one()
        return row.id, message


async def test_escalation_posts_a_summary_with_the_owner(app: Any, runtime_for: Any) -> None:
    ident, message = await _raise_error(app)
    assert message.job_name == "exceptions.escalate" and message.args == {"exception_id": ident}
    received: list[dict[str, Any]] = []
    with serve(_receiver(received)) as base_url:
        result = await tasks.escalate({"runtime": runtime_for(f"{base_url}/hook"), "job_id": message.job_id},
                                      **message.args)
    assert result == {"escalated": True, "channel": "webhook"}
    assert len(received) == 1
    body = received[0]
    assert body["owner"] == "finance"
    assert body["exception"]["id"] == ident and body["exception"]["type"] == "LOCKED_PERIOD"
    assert body["text"].startswith("[ERROR] finance: Posting period for 2026-11-30")


async def test_without_a_webhook_the_escalation_is_logged(app: Any, runtime_for: Any,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    ident, _ = await _raise_error(app)
    with caplog.at_level("WARNING", logger="b1bridge.exceptions"):
        result = await tasks.escalate({"runtime": runtime_for(None)}, exception_id=ident)
    assert result == {"escalated": True, "channel": "log"}
    assert any(r.message == "exceptions.escalated" for r in caplog.records)


async def test_an_exception_resolved_before_the_job_runs_is_not_escalated(app: Any, runtime_for: Any) -> None:
    ident, _ = await _raise_error(app)
    async with session_scope(app.state.runtime.sessionmaker) as session:
        await exceptions.clear(session, ExceptionType.LOCKED_PERIOD, {"date": "2026-11-30"})
    received: list[dict[str, Any]] = []
    with serve(_receiver(received)) as base_url:
        result = await tasks.escalate({"runtime": runtime_for(f"{base_url}/hook")}, exception_id=ident)
    assert result["escalated"] is False and received == []

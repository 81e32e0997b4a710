"""create_app(): lifespan (database, Redis, clients, outbox relay), routers, handlers, telemetry."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import problems
from app.config import Settings, get_settings
from app.errors import ConfigurationError
from app.kit import telemetry
from app.kit.context import reset_request_id, set_request_id
from app.outbox import relay
from app.runtime import Runtime, freeze_start_up

# Each domain package exposes `router`; a package listed here that does not exist yet is skipped.
ROUTERS = (
    # First: Starlette matches routes in order, and Inventory Planner's webhook is the hot path
    # (it was tried after ~47 others).
    "app.webhooks.router",
    "app.health.router",
    "app.auth.router",
    "app.exceptions.router",
    "app.mappings.router",
    "app.stock.router",
    "app.sync.router",
    "app.recommendations.router",
    "app.feeds.router",
    "app.audit.router",
)

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {"application/problem+json": {"schema": problems.PROBLEM_SCHEMA}}}
    for code, text in (
        (400, "Bad request"),
        (401, "Authentication required"),
        (403, "Insufficient scope"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Validation failed"),
    )
}


def _routers() -> list[Any]:
    found = []
    for module in ROUTERS:
        try:
            found.append(importlib.import_module(module).router)
        except ModuleNotFoundError as exc:
            if not exc.name or not (module == exc.name or module.startswith(exc.name + ".")):
                raise
    return found


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    runtime = Runtime.build(settings)
    app.state.runtime = runtime
    app.state.sessionmaker = runtime.sessionmaker
    relay_task = None
    if settings.relay_in_api:
        relay_task = asyncio.create_task(
            relay.run_forever(runtime.sessionmaker, runtime.redis, queue_name=runtime.queue_name)
        )
    freeze_start_up()
    try:
        yield
    finally:
        if relay_task:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
        await runtime.close()


# Path parameters that are secrets: never in a trace (IP calls us at /webhooks/.../{token}).
SECRET_PATH_PARAMS = frozenset({"token"})


class RequestContext:
    """The request id (from `X-Request-ID`, else new) for logs and enqueued jobs, echoed on the
    response and set on the request's span.

    The span itself is FastAPI's native server span (route template, status, W3C parent): a second
    one of ours would only double the cost. Plain ASGI, because Starlette's BaseHTTPMiddleware
    runs every request through an extra task and memory streams that cost more than the webhook
    handler itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        span = trace.get_current_span()
        span.set_attribute("b1bridge.request_id", request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
                _redact_path(span, scope)  # routing has run; the span ends with the body
            await send(message)

        token = set_request_id(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(token)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and value:
            return value.decode("latin-1")[:64]
    return uuid.uuid4().hex


def _redact_path(span: trace.Span, scope: Scope) -> None:
    secrets = SECRET_PATH_PARAMS.intersection(scope.get("path_params") or ())
    if secrets and span.is_recording():
        path = scope["path"]
        for name in secrets:
            path = path.replace(str(scope["path_params"][name]), "REDACTED")
        span.set_attribute("url.path", path)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if settings.is_production and (problems_found := settings.production_problems()):
        raise ConfigurationError("Refusing to start in production: " + "; ".join(problems_found))
    telemetry.setup(settings)
    app = FastAPI(
        title="b1bridge",
        version="0.1.0",
        summary="Keeps SAP Business One (the ledger) and Inventory Planner (the planner) in step.",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        swagger_ui_parameters={"persistAuthorization": True},
        # FastAPI's server span per request stays (RequestContext adds the request id to it); its
        # three child spans per request (dependencies, endpoint, serialization) cost more than
        # the webhook handler's own work and say nothing the server span does not.
        telemetry={"operation_spans": False},
    )
    app.state.settings = settings
    problems.install(app)
    app.add_middleware(RequestContext)
    for router in _routers():
        app.include_router(router)
    return app

"""create_app(): lifespan (database, Redis, clients, outbox relay), routers, handlers, telemetry."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from opentelemetry import trace

from app import problems
from app.config import Settings, get_settings
from app.errors import ConfigurationError
from app.kit import telemetry
from app.kit.context import reset_request_id, set_request_id
from app.outbox import relay
from app.runtime import Runtime

tracer = trace.get_tracer("b1bridge.api")

# Each domain package exposes `router`; a package listed here that does not exist yet is skipped.
ROUTERS = (
    "app.health.router",
    "app.auth.router",
    "app.exceptions.router",
    "app.mappings.router",
    "app.stock.router",
    "app.sync.router",
    "app.recommendations.router",
    "app.webhooks.router",
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
    try:
        yield
    finally:
        if relay_task:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
        await runtime.close()


async def _request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    token = set_request_id(request_id[:64])
    route = request.scope.get("route")
    with tracer.start_as_current_span(f"{request.method} {getattr(route, 'path', request.url.path)}") as span:
        span.set_attribute("http.method", request.method)
        try:
            response = await call_next(request)
        finally:
            reset_request_id(token)
        span.set_attribute("http.status_code", response.status_code)
    response.headers["X-Request-ID"] = request_id[:64]
    return response


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
    )
    app.state.settings = settings
    problems.install(app)
    app.middleware("http")(_request_context)
    for router in _routers():
        app.include_router(router)
    return app

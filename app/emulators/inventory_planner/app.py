"""`create_app(config)`: the Inventory Planner emulator as a FastAPI ASGI app.

Layers, outermost first, in the order IP's edge applies them: Cloudflare (empty User-Agent and
unknown paths answer 403 HTML, reference §4, §9), injected throttling and 5xx, then the API.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from app.emulators.inventory_planner import admin, api
from app.emulators.inventory_planner.config import IPEmulatorConfig
from app.emulators.inventory_planner.errors import IPError, envelope
from app.emulators.inventory_planner.store import IPStore

CLOUDFLARE_403 = (
    "<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1>"
    "<center>cloudflare</center></body></html>"
)
CONTROL_PREFIX = "/_emulator"


def create_app(config: IPEmulatorConfig | None = None) -> FastAPI:
    config = config or IPEmulatorConfig()
    store = IPStore(config)
    app = FastAPI(
        title="Inventory Planner emulator",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.ip = store
    app.include_router(api.router)
    app.include_router(admin.router)
    app.add_exception_handler(IPError, _ip_error)  # type: ignore[arg-type]
    app.middleware("http")(_edge)
    app.add_api_route(
        "/{path:path}",
        _unknown_path,
        include_in_schema=False,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    )
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    store: IPStore = app.state.ip
    store.loop = asyncio.get_running_loop()
    acceptor = None
    if store.config.sftp_port is not None:
        from app.emulators.inventory_planner import sftp

        acceptor = await sftp.start(store)
    poller = asyncio.create_task(_poll(store)) if store.config.sync_poll_seconds else None
    try:
        yield
    finally:
        if poller:
            poller.cancel()
        await store.emitter.close()
        if acceptor:
            acceptor.close()
            await acceptor.wait_closed()


async def _poll(store: IPStore) -> None:
    interval = store.config.sync_poll_seconds or 60.0
    while True:
        await asyncio.sleep(interval)
        await asyncio.to_thread(store.run_sync)


async def _ip_error(request: Request, exc: IPError) -> JSONResponse:
    return JSONResponse(envelope(exc.message), status_code=exc.status)


async def _unknown_path(path: str) -> HTMLResponse:
    return HTMLResponse(CLOUDFLARE_403, status_code=403)


async def _edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    store: IPStore = request.app.state.ip
    path = request.url.path
    if path.startswith(CONTROL_PREFIX):
        return await call_next(request)
    if not request.headers.get("user-agent", "").strip():
        store.count_request("cloudflare 403 (empty user-agent)")
        return HTMLResponse(CLOUDFLARE_403, status_code=403)
    injected = _injected(store) if path.startswith("/api/") else None
    response = injected or await call_next(request)
    store.count_request(_route_name(request, injected))
    return response


def _injected(store: IPStore) -> Response | None:
    decision = store.faults.decide()
    if decision is None:
        return None
    if decision.status == 429:
        return JSONResponse(
            envelope("Too many requests"), status_code=429, headers={"Retry-After": str(decision.retry_after)}
        )
    return JSONResponse(envelope("Internal server error"), status_code=decision.status)


def _route_name(request: Request, injected: Response | None) -> str:
    if injected is not None:
        return f"{request.method} {request.url.path} (injected {injected.status_code})"
    route: Any = request.scope.get("route")
    template = getattr(route, "path", None)
    if template == "/{path:path}":
        return "unknown path 403"
    return f"{request.method} {template or request.url.path}"

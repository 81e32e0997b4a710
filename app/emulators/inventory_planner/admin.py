"""`/_emulator/*`: the test and demo control surface. Not part of IP, so it needs no IP key.

These are the actions a person performs in IP's UI (save to connection, edit an order), the
scheduled jobs (nightly sync, Starter fetch) and the fault knobs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.emulators.inventory_planner.api import store_of
from app.emulators.inventory_planner.config import StarterConnector, WebhookConfig
from app.emulators.inventory_planner.errors import bad_request

router = APIRouter(prefix="/_emulator")


class Connectors(BaseModel):
    connectors: list[StarterConnector] = Field(default_factory=list)


@router.post("/purchase-orders/{po_id}/save-to-connection")
async def save_to_connection(po_id: str, request: Request) -> dict[str, Any]:
    return await store_of(request).save_to_connection(po_id)


@router.patch("/purchase-orders/{po_id}")
async def edit_purchase_order(po_id: str, request: Request) -> dict[str, Any]:
    return {"purchase-order": store_of(request).edit_purchase_order(po_id, await _json(request))}


@router.post("/sync")
def sync(request: Request) -> dict[str, Any]:
    return store_of(request).run_sync()


@router.post("/starter/fetch")
async def starter_fetch(request: Request) -> dict[str, Any]:
    return await store_of(request).fetch_starter()


@router.get("/starter/connectors")
def get_connectors(request: Request) -> dict[str, Any]:
    return {"connectors": [c.model_dump() for c in store_of(request).connectors]}


@router.post("/starter/connectors")
def set_connectors(body: Connectors, request: Request) -> dict[str, Any]:
    store_of(request).set_connectors(body.connectors)
    return {"connectors": [c.model_dump() for c in body.connectors]}


@router.post("/faults")
async def faults(request: Request) -> dict[str, Any]:
    """Fault fields at the top level, plus optional `rng_seed` and a `webhooks` delivery config."""
    store = store_of(request)
    body = await _json(request)
    hooks = body.pop("webhooks", None)
    seed = body.pop("rng_seed", None)
    try:
        config = store.faults.update(body, seed)
        if hooks is not None:
            merged = {**store.emitter.config.model_dump(), **hooks}
            store.emitter.config = WebhookConfig.model_validate(merged)
    except ValueError as exc:
        raise bad_request(str(exc))
    return {"faults": config.model_dump(), "webhooks": store.emitter.config.model_dump()}


@router.get("/stats")
def stats(request: Request) -> dict[str, Any]:
    return store_of(request).stats()


@router.get("/sftp")
def sftp_info(request: Request) -> dict[str, Any]:
    store = store_of(request)
    return {
        "host": "127.0.0.1",
        "port": store.sftp_port,
        "username": store.config.sftp_username,
        "root": str(store.sftp_root),
        "known_hosts_line": store.sftp_known_hosts_line,
        "host_public_key": store.sftp_host_public_key,
    }


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("Request body must be JSON")
    if not isinstance(body, dict):
        raise bad_request("Request body must be an object")
    return body

"""IP's public REST API, `/api/v1` (reference §4-§8).

Handlers stay thin: unwrap the `{"<singular>":…}` body, call the store, wrap the answer.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from app.emulators.inventory_planner import query
from app.emulators.inventory_planner.errors import IPError, bad_request
from app.emulators.inventory_planner.store import IPStore


def store_of(request: Request) -> IPStore:
    store: IPStore = request.app.state.ip
    return store


def require_auth(request: Request) -> None:
    """Raw key in Authorization (no Bearer) plus Account (reference §4): missing 401, wrong 403."""
    config = store_of(request).config
    key, account = request.headers.get("authorization"), request.headers.get("account")
    if not key or not account:
        raise IPError(401, "Authentication required: send Authorization and Account headers")
    if not (hmac.compare_digest(key, config.api_key) and hmac.compare_digest(account, config.account)):
        raise IPError(403, "Invalid API key or account")


router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_auth)])


async def unwrap(request: Request, name: str) -> Any:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("Request body must be JSON")
    if not isinstance(body, dict) or name not in body:
        raise bad_request(f'Request body must be wrapped as {{"{name}": ...}}')
    return body[name]


async def webhook_body(request: Request) -> dict[str, Any]:
    """The WH article shows a bare `{"address","fields","topic"}` body; the wrapper is accepted too."""
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("Request body must be JSON")
    body = body.get("webhook", body) if isinstance(body, dict) else body
    return _object(body, "webhook")


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{name} must be an object")
    return value


def _params(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def _fields(request: Request) -> list[str] | None:
    raw = request.query_params.get("fields")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None


# --- purchase orders ---------------------------------------------------------------------------


@router.get("/purchase-orders")
def list_purchase_orders(request: Request) -> dict[str, Any]:
    return store_of(request).list_purchase_orders(_params(request))


@router.post("/purchase-orders")
async def create_purchase_order(request: Request) -> dict[str, Any]:
    store = store_of(request)
    body = _object(await unwrap(request, "purchase-order"), "purchase-order")
    if store.faults.take_create_failure():
        # Seen in the wild: a failed create answered HTTP 500 with the result envelope (reference §9).
        raise IPError(500, "Failed to create purchase-order")
    return {"purchase-order": store.create_purchase_order(body)}


@router.get("/purchase-orders/{po_id}")
def get_purchase_order(po_id: str, request: Request) -> dict[str, Any]:
    po = store_of(request).get_purchase_order(po_id)
    return {"purchase-order": query.project(po, _fields(request))}


@router.api_route("/purchase-orders/{po_id}", methods=["PUT", "PATCH"])
async def update_purchase_order(po_id: str, request: Request) -> dict[str, Any]:
    body = _object(await unwrap(request, "purchase-order"), "purchase-order")
    return {"purchase-order": store_of(request).update_purchase_order(po_id, body)}


@router.patch("/purchase-orders/{po_id}/items")
async def receive_items(po_id: str, request: Request) -> dict[str, Any]:
    return store_of(request).receive_items(po_id, await unwrap(request, "items"))


# --- variants and vendors ----------------------------------------------------------------------


@router.get("/variants")
def list_variants(request: Request) -> dict[str, Any]:
    return store_of(request).list_variants(_params(request))


@router.get("/variants/{variant_id}")
def get_variant(variant_id: str, request: Request) -> dict[str, Any]:
    return {"variant": store_of(request).get_variant(variant_id, _fields(request))}


@router.api_route("/variants/{variant_id}", methods=["PUT", "PATCH"])
def write_variant(variant_id: str, request: Request) -> dict[str, Any]:
    # Stock and products cannot be pushed through the API (reference §1); only CSV feeds change them.
    raise IPError(400, "Variant stock and product data are read-only; use a CSV connection")


@router.get("/variants/{variant_id}/vendors")
def variant_vendors(variant_id: str, request: Request) -> dict[str, Any]:
    rows = store_of(request).variant_vendors(variant_id)
    return {
        "vendors": rows,
        "meta": {
            "name": "vendors",
            "display_name": "vendors",
            "total": len(rows),
            "count": len(rows),
            "limit": len(rows),
            "page": 0,
        },
    }


@router.get("/vendors")
def list_vendors(request: Request) -> dict[str, Any]:
    return store_of(request).list_vendors(_params(request))


@router.get("/vendors/{vendor_id:path}")
def get_vendor(vendor_id: str, request: Request) -> dict[str, Any]:
    # Vendor ids are names and arrive URL-encoded (reference §7); Starlette has decoded them already.
    return {"vendor": store_of(request).get_vendor(vendor_id)}


# --- webhooks ----------------------------------------------------------------------------------


@router.get("/webhooks")
def list_webhooks(request: Request) -> dict[str, Any]:
    return store_of(request).list_webhooks(_params(request))


@router.post("/webhooks")
async def create_webhook(request: Request) -> dict[str, Any]:
    return {"webhook": store_of(request).save_webhook(await webhook_body(request))}


@router.get("/webhooks/{webhook_id}")
def get_webhook(webhook_id: str, request: Request) -> dict[str, Any]:
    return {"webhook": store_of(request).get_webhook(webhook_id)}


@router.put("/webhooks/{webhook_id}")
async def update_webhook(webhook_id: str, request: Request) -> dict[str, Any]:
    return {"webhook": store_of(request).save_webhook(await webhook_body(request), webhook_id)}


@router.delete("/webhooks/{webhook_id}")
def delete_webhook(webhook_id: str, request: Request) -> Response:
    store_of(request).delete_webhook(webhook_id)
    return Response(status_code=204)

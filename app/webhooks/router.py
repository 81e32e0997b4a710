"""POST /webhooks/inventory-planner/{token}: stored, committed, then 202 (IP §10.3-4)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel

from app.webhooks import service

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class DeliveryAccepted(BaseModel):
    delivery_id: str
    po_ids: list[str]
    duplicate: bool


@router.post(
    "/inventory-planner/{token}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryAccepted,
    responses={413: {"description": "Body too large"}},
)
async def inventory_planner(token: str, request: Request) -> DeliveryAccepted:
    """A `purchase-orders/connection-save` delivery. The PO is re-fetched from IP before anything
    is decided; 202 means the delivery is durably stored, not that it was valid."""
    settings = request.app.state.settings
    service.check_token(settings, token)
    body = await service.read_bounded(
        request.stream(), settings.writeback.webhook_max_bytes, request.headers.get("content-length")
    )
    webhook_id = service.verify_signature(settings, request.headers, body)
    payload, found = service.parse(body)
    accepted = await service.store(
        request.app.state.runtime,
        payload=payload,
        found=found,
        body=body,
        webhook_id=webhook_id,
        topic=request.headers.get("x-ip-topic"),
    )
    return DeliveryAccepted(
        delivery_id=accepted.delivery_id, po_ids=accepted.po_ids, duplicate=accepted.duplicate
    )

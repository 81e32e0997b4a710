"""Inbound webhook deliveries: stored before they are acknowledged, deduplicated, never trusted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utc_field


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"

    id: str = id_field()
    source: str = Field(default="inventory_planner", max_length=40)
    # webhook-id when the sender signs, else PO ids + last_modified (or the body hash): a retried
    # or duplicated delivery of the same change maps to the same row.
    dedupe_key: str = Field(max_length=200, unique=True)
    webhook_id: str | None = Field(default=None, max_length=200, index=True)
    topic: str | None = Field(default=None, max_length=100)
    po_ids: list[str] = json_field(default=list)
    body_sha256: str = Field(max_length=64)
    body: Any = json_field(default=dict)
    signed: bool = False
    received_at: datetime = utc_field(index=True)

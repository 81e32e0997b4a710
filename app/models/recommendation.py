"""Recommendations: one per Inventory Planner purchase-order version, with its lines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Numeric, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utc_field


class RecommendationStatus(StrEnum):
    received = "received"
    validated = "validated"
    blocked = "blocked"
    approved = "approved"
    queued = "queued"
    posting = "posting"
    posted = "posted"
    failed = "failed"
    held = "held"  # posting period locked, waiting for finance
    superseded = "superseded"
    rejected = "rejected"


class DocumentType(StrEnum):
    purchase_order = "purchase_order"
    purchase_request = "purchase_request"
    production_order = "production_order"


class Recommendation(SQLModel, table=True):
    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("ip_po_id", "version", name="uq_recommendations_po_version"),)

    id: str = id_field()
    ip_po_id: str = Field(max_length=100, index=True)
    version: int = 1
    ip_reference: str | None = Field(default=None, max_length=100)
    ip_status: str | None = Field(default=None, max_length=60)
    ip_vendor: str | None = Field(default=None, max_length=200, index=True)
    ip_warehouse: str | None = Field(default=None, max_length=100)
    ip_last_modified: datetime | None = utc_field(nullable=True)
    # Hash of what matters for SAP (vendor, warehouse, dates, lines): a re-fetch that changes
    # nothing of it is the same version, whatever IP's last_modified says.
    content_hash: str = Field(max_length=64)
    status: RecommendationStatus = Field(
        default=RecommendationStatus.received, sa_type=String(12), index=True
    )
    card_code: str | None = Field(default=None, max_length=15)
    doc_due_date: date | None = None
    currency: str | None = Field(default=None, max_length=3)
    problems: list[dict[str, Any]] = json_field(default=list)
    status_reason: str | None = Field(default=None, max_length=500)
    approved_by: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = utc_field(nullable=True)
    superseded_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = utc_field(index=True)
    updated_at: datetime = utc_field()


class RecommendationLine(SQLModel, table=True):
    __tablename__ = "recommendation_lines"

    id: str = id_field()
    recommendation_id: str = Field(foreign_key="recommendations.id", max_length=32, index=True)
    line_no: int
    ip_line_id: str | None = Field(default=None, max_length=100)
    sku: str | None = Field(default=None, max_length=100, index=True)
    item_code: str | None = Field(default=None, max_length=50)
    ip_warehouse: str | None = Field(default=None, max_length=100)
    warehouse_code: str | None = Field(default=None, max_length=8)
    quantity: Decimal | None = Field(default=None, sa_type=Numeric(19, 6))
    price: Decimal | None = Field(default=None, sa_type=Numeric(19, 6))
    doc_type: DocumentType = Field(default=DocumentType.purchase_order, sa_type=String(20))


class PollState(SQLModel, table=True):
    """The polling watermark over IP purchase orders (one row per stream)."""

    __tablename__ = "po_poll_state"

    name: str = Field(primary_key=True, max_length=40)
    watermark: datetime | None = utc_field(nullable=True)
    last_run_at: datetime | None = utc_field(nullable=True)
    last_count: int = 0

"""API shapes for /recommendations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


class LineOut(BaseModel):
    line_no: int
    ip_line_id: str | None
    sku: str | None
    item_code: str | None
    ip_warehouse: str | None
    warehouse_code: str | None
    quantity: Decimal | None
    price: Decimal | None
    doc_type: str


class AttemptOut(BaseModel):
    write_id: str
    operation: str
    outcome: str | None
    error: dict[str, Any] | None
    started_at: datetime
    finished_at: datetime | None


class WriteOut(BaseModel):
    id: str
    entity: str
    ext_ref: str
    status: str
    attempts: int
    operation: str | None
    doc_entry: int | None
    doc_num: int | None
    doc_date: date
    posted_date: date | None
    last_error: dict[str, Any] | None


class DocumentOut(BaseModel):
    entity: str
    doc_entry: int
    doc_num: int | None
    ext_ref: str
    lines: list[dict[str, Any]]


class RecommendationOut(BaseModel):
    id: str
    ip_po_id: str
    version: int
    ip_reference: str | None
    ip_status: str | None
    ip_vendor: str | None
    card_code: str | None
    doc_due_date: date | None
    status: str
    status_reason: str | None
    problems: list[dict[str, Any]]
    approved_by: str | None
    superseded_by: str | None
    created_at: datetime
    updated_at: datetime


class RecommendationDetail(RecommendationOut):
    lines: list[LineOut]
    writes: list[WriteOut]
    attempts: list[AttemptOut]
    documents: list[DocumentOut]


class RecommendationPage(BaseModel):
    items: list[RecommendationOut]
    next_cursor: str | None


class RejectIn(BaseModel):
    reason: str | None = None


class DryRun(BaseModel):
    dry_run: bool = True
    documents: list[dict[str, Any]]

"""SAP writes (the write-back queue), their attempts, the documents they produced, adjustments."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utc_field


class WriteStatus(StrEnum):
    queued = "queued"
    posting = "posting"
    posted = "posted"
    failed = "failed"  # business error (POST_FAILED) or retry budget spent (SAP_BUSY)
    held = "held"  # locked period under the review policy (LOCKED_PERIOD)
    superseded = "superseded"  # a newer write for the same document replaced it before posting
    rejected = "rejected"  # SAP no longer allows the change (DOCUMENT_CHANGE_REJECTED)


class SapWrite(SQLModel, table=True):
    """One document-level write through the pipeline (a create or an update of one SAP document)."""

    __tablename__ = "sap_writes"

    id: str = id_field()
    source_type: str = Field(max_length=20)  # recommendation | adjustment
    source_id: str = Field(max_length=32, index=True)
    entity: str = Field(max_length=40)  # PurchaseOrders, InventoryGenEntries, ...
    # Stable across versions of the same source document: a later version finds the SAP document
    # the earlier one created and updates it instead of creating a second one.
    ext_ref: str = Field(max_length=50, index=True)
    group_key: str = Field(max_length=60)  # which lines of the source (e.g. "po", "wo:<line>")
    skus: list[str] = json_field(default=list)
    # Everything the payload needs, frozen when the write is queued: the pipeline builds the SAP
    # body from this alone, whatever the source (recommendation or adjustment) is.
    header: dict[str, Any] = json_field(default=dict)
    lines: list[dict[str, Any]] = json_field(default=list)
    doc_date: date
    status: WriteStatus = Field(default=WriteStatus.queued, sa_type=String(12), index=True)
    generation: int = 0  # bumped on each re-queue so the arq job id stays deterministic but new
    attempts: int = 0
    corrections: dict[str, Any] = json_field(default=dict)
    last_error: dict[str, Any] | None = json_field(nullable=True, default=lambda: None)
    doc_entry: int | None = None
    doc_num: int | None = None
    operation: str | None = Field(default=None, max_length=10)  # create | update | adopt
    posted_date: date | None = None
    created_at: datetime = utc_field(index=True)
    updated_at: datetime = utc_field()
    posted_at: datetime | None = utc_field(nullable=True)


class WriteAttempt(SQLModel, table=True):
    """Written and committed BEFORE a SAP call: a worker killed mid-post leaves this intent behind,
    which tells the next run to look the external reference up before posting again."""

    __tablename__ = "sap_write_attempts"

    id: str = id_field()
    write_id: str = Field(foreign_key="sap_writes.id", max_length=32, index=True)
    ext_ref: str = Field(max_length=50, index=True)
    operation: str = Field(max_length=10)
    outcome: str | None = Field(default=None, max_length=30)  # None = unknown (in flight or died)
    error: dict[str, Any] | None = json_field(nullable=True, default=lambda: None)
    started_at: datetime = utc_field()
    finished_at: datetime | None = utc_field(nullable=True)


class SapDocument(SQLModel, table=True):
    __tablename__ = "sap_documents"
    __table_args__ = (UniqueConstraint("entity", "doc_entry", name="uq_sap_documents_entry"),)

    id: str = id_field()
    entity: str = Field(max_length=40)
    doc_entry: int
    doc_num: int | None = None
    ext_ref: str = Field(max_length=50, index=True)
    source_type: str = Field(max_length=20)
    source_id: str = Field(max_length=32, index=True)
    write_id: str = Field(max_length=32)
    lines: list[dict[str, Any]] = json_field(default=list)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class AdjustmentStatus(StrEnum):
    queued = "queued"
    posting = "posting"
    posted = "posted"
    failed = "failed"
    held = "held"


class StockAdjustment(SQLModel, table=True):
    __tablename__ = "stock_adjustments"

    id: str = id_field()
    idempotency_key: str = Field(max_length=255, unique=True)
    request_sha256: str = Field(max_length=64)
    response_status: int = 202
    response_body: dict[str, Any] = json_field(default=dict)
    actor: str = Field(max_length=100)
    reason: str = Field(max_length=254)
    effective_date: date
    lines: list[dict[str, Any]] = json_field(default=list)
    status: AdjustmentStatus = Field(default=AdjustmentStatus.queued, sa_type=String(10), index=True)
    request_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = utc_field(index=True)
    updated_at: datetime = utc_field()

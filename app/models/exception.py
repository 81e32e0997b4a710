"""The exception register: business exceptions (not Python's), one row per type + subject.

A condition that recurs after being resolved reopens the same row, so its whole history (first
seen, occurrences, who resolved it and why) stays in one place; hence `dedupe_key` is unique.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utc_field


class ExceptionType(StrEnum):
    SKU_MISMATCH = "SKU_MISMATCH"
    INACTIVE_ITEM = "INACTIVE_ITEM"
    UNMAPPED_WAREHOUSE = "UNMAPPED_WAREHOUSE"
    WAREHOUSE_MAPPING_CONFLICT = "WAREHOUSE_MAPPING_CONFLICT"
    UNMAPPED_CATEGORY = "UNMAPPED_CATEGORY"
    UNMAPPED_VENDOR = "UNMAPPED_VENDOR"
    NON_NETTABLE_STOCK = "NON_NETTABLE_STOCK"
    STOCK_DRIFT = "STOCK_DRIFT"
    SYNC_LAG = "SYNC_LAG"
    FEED_DEADLINE_MISSED = "FEED_DEADLINE_MISSED"
    LOCKED_PERIOD = "LOCKED_PERIOD"
    SAP_BUSY = "SAP_BUSY"
    POST_FAILED = "POST_FAILED"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    FEED_DELIVERY_FAILED = "FEED_DELIVERY_FAILED"
    IP_BAD_PAYLOAD = "IP_BAD_PAYLOAD"
    UNMAPPED_STATUS = "UNMAPPED_STATUS"
    DOCUMENT_CHANGE_REJECTED = "DOCUMENT_CHANGE_REJECTED"
    IP_PO_READONLY = "IP_PO_READONLY"


class Owner(StrEnum):
    finance = "finance"
    operations = "operations"
    integration = "integration"


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    error = "error"
    critical = "critical"

    @property
    def rank(self) -> int:
        return ("info", "warning", "error", "critical").index(self.value)


class ExceptionStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    ignored = "ignored"


class BusinessException(SQLModel, table=True):
    __tablename__ = "exceptions"
    # Keyset pagination walks (last_seen_at desc, id desc); the dashboards filter by owner/type/status.
    __table_args__ = (
        Index("ix_exceptions_last_seen_at_id", "last_seen_at", "id"),
        Index("ix_exceptions_type_status", "type", "status"),
    )

    id: str = id_field()
    type: ExceptionType = Field(sa_type=String(40))
    owner: Owner = Field(sa_type=String(20), index=True)
    severity: Severity = Field(sa_type=String(10), index=True)
    status: ExceptionStatus = Field(default=ExceptionStatus.open, sa_type=String(15), index=True)
    subject: dict[str, Any] = json_field()
    subject_text: str = Field(max_length=500, index=True)
    dedupe_key: str = Field(max_length=120, unique=True)
    title: str = Field(max_length=300)
    message: str | None = Field(default=None, max_length=4000)
    suggested_action: str | None = Field(default=None, max_length=2000)
    evidence: dict[str, Any] = json_field()
    source: str | None = Field(default=None, max_length=100, index=True)
    related: dict[str, Any] = json_field()
    occurrences: int = 1
    reopen_count: int = 0
    first_seen_at: datetime = utc_field()
    last_seen_at: datetime = utc_field()
    resolved_at: datetime | None = utc_field(nullable=True)
    reopened_at: datetime | None = utc_field(nullable=True)
    status_changed_at: datetime = utc_field()
    status_actor: str | None = Field(default=None, max_length=200)
    status_note: str | None = Field(default=None, max_length=2000)

"""The audit log: every change made through the API (who, what, before/after, when)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utc_field


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: str = id_field()
    at: datetime = utc_field(index=True)
    actor: str = Field(max_length=200, index=True)
    action: str = Field(max_length=100, index=True)
    entity_type: str = Field(max_length=60, index=True)
    entity_id: str = Field(max_length=200, index=True)
    before: dict[str, Any] | None = json_field(nullable=True, default=lambda: None)
    after: dict[str, Any] | None = json_field(nullable=True, default=lambda: None)
    request_id: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)

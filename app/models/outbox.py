"""The outbox: jobs written in the same transaction as the change that needs them.

The relay moves rows to arq with their deterministic job id, so a crash or a Redis outage between
commit and enqueue loses nothing and enqueues nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utc_field


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"

    id: str = id_field()
    job_name: str = Field(max_length=100)
    job_id: str = Field(max_length=200, unique=True)
    args: dict[str, Any] = json_field()
    defer_seconds: float = 0.0
    request_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = utc_field(index=True)
    enqueued_at: datetime | None = utc_field(nullable=True, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)

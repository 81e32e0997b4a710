"""API shapes of sync runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class SyncRequest(BaseModel):
    full: bool = False


class RunCounts(BaseModel):
    read: int
    changed: int
    sent: int
    skipped_by_rule: int


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    stream: str
    trigger: str
    mode: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    counts: RunCounts
    watermark_from: datetime | None
    watermark_to: datetime | None
    files: list[Any]
    errors: list[Any]

    @classmethod
    def of(cls, run: Any) -> RunOut:
        counts = RunCounts(
            read=run.read_count,
            changed=run.changed_count,
            sent=run.sent_count,
            skipped_by_rule=run.skipped_count,
        )
        data = {k: getattr(run, k) for k in cls.model_fields if k != "counts"}
        return cls(**data, counts=counts)


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None

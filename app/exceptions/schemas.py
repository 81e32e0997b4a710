"""Request and response bodies of the exception API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.kit.time import as_utc
from app.models.exception import ExceptionStatus, ExceptionType, Owner, Severity

# SQLite hands timestamps back without a zone; they are UTC, and the API always says so.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


class ExceptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    type: ExceptionType
    owner: Owner
    severity: Severity
    status: ExceptionStatus
    title: str
    message: str | None
    suggested_action: str | None
    subject: dict[str, Any]
    subject_text: str
    dedupe_key: str
    evidence: dict[str, Any]
    source: str | None
    related: dict[str, Any]
    occurrences: int
    reopen_count: int
    first_seen_at: UtcDatetime
    last_seen_at: UtcDatetime
    resolved_at: UtcDatetime | None
    reopened_at: UtcDatetime | None
    status_changed_at: UtcDatetime
    status_actor: str | None
    status_note: str | None


class ExceptionPageOut(BaseModel):
    items: list[ExceptionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000,
                             description="Why; kept on the exception and in the audit log.")


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    corrections: dict[str, Any] = Field(default_factory=dict,
                                        description="Type-specific corrections the retry handler applies.")
    note: str | None = Field(default=None, max_length=2000)


class RetryOut(BaseModel):
    exception: ExceptionOut
    result: dict[str, Any]


class SummaryRow(BaseModel):
    owner: Owner
    type: ExceptionType
    status: ExceptionStatus
    count: int


class SummaryOut(BaseModel):
    total: int
    by_status: dict[str, int]
    by_owner: dict[str, dict[str, int]] = Field(description="owner → status → count")
    rows: list[SummaryRow]

    @classmethod
    def build(cls, counts: list[tuple[str, str, str, int]]) -> SummaryOut:
        by_status: dict[str, int] = {}
        by_owner: dict[str, dict[str, int]] = {}
        for owner, _, status, n in counts:
            by_status[status] = by_status.get(status, 0) + n
            statuses = by_owner.setdefault(owner, {})
            statuses[status] = statuses.get(status, 0) + n
        rows = [SummaryRow(owner=Owner(o), type=ExceptionType(t), status=ExceptionStatus(s), count=n)
                for o, t, s, n in counts]
        return cls(total=sum(by_status.values()), by_status=by_status, by_owner=by_owner, rows=rows)

"""The SAP B1 Service Layer error family, and the one function that classifies an answer.

The Service Layer speaks two envelopes: v1 (OData V3) `{"error":{"code":-2028,"message":{"lang":
"en-us","value":"..."}}}` and v2 (OData V4) `{"error":{"code":"-2028","message":"...","details":
[...]}}`. Messages follow the login language, so classification branches on the numeric code and
only falls back to message text where SAP gives no code of its own (deadlocks, OITW row locks).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from app.errors import ExternalError
from app.kit.redact import redact

_MAX_BODY_CHARS = 4000


@dataclass(frozen=True, slots=True)
class SapRequest:
    """What was asked, kept as evidence on the error (never headers: they carry the session)."""

    method: str
    path: str
    body: Any = None

    @classmethod
    def build(cls, method: str, path: str, body: Any = None) -> SapRequest:
        return cls(method.upper(), path, redact(body))

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body}


@dataclass(frozen=True, slots=True)
class SapAnswer:
    """The parsed error envelope, whichever dialect produced it."""

    http_status: int | None
    sap_code: int | None
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)


class SapError(ExternalError):
    code = "sap-error"
    title = "SAP Business One error"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, sap_code: int | None = None, http_status: int | None = None,
                 request: SapRequest | None = None, details: list[dict[str, Any]] | None = None) -> None:
        evidence: dict[str, Any] = {"sap_code": sap_code, "http_status": http_status}
        if request is not None:
            evidence["request"] = request.as_dict()
        super().__init__(message, **evidence)
        self.message = message
        self.sap_code = sap_code
        self.http_status = http_status
        self.request = request
        self.details = details or []

    def __str__(self) -> str:
        where = f" [{self.request.method} {self.request.path}]" if self.request else ""
        return f"{type(self).__name__}(http={self.http_status}, code={self.sap_code}): {self.message}{where}"


class SapAuthError(SapError):
    """-304 bad user/password, -306 unknown CompanyDB: retrying cannot help, fix the settings."""

    code = "sap-auth-failed"
    title = "SAP login refused"


class SapSessionExpired(SapError):
    """301 after our one re-login and replay: something invalidates sessions faster than we log in."""

    code = "sap-session-expired"
    title = "SAP session expired"
    retryable = True


class SapNotFound(SapError):
    code = "sap-not-found"
    title = "Not found in SAP"


class SapPeriodLocked(SapError):
    """-4013: never retried blindly; finance reopens the period or the policy picks another date."""

    code = "sap-period-locked"
    title = "SAP posting period locked"


class SapConcurrencyConflict(SapError):
    """412/-2039: the ETag is stale; reload the entity and reapply before writing again."""

    code = "sap-concurrency-conflict"
    title = "Modified in SAP by another user"


class SapLocked(SapError):
    """Row locks (OITW) and lock waits: another transaction holds the rows; retry later."""

    code = "sap-locked"
    title = "SAP rows locked"
    retryable = True


class SapDeadlock(SapLocked):
    code = "sap-deadlock"
    title = "SAP deadlock"


class SapBusinessError(SapError):
    """SAP refused the content (validation, negative stock, bad filter...): a person must look."""

    code = "sap-business-error"
    title = "SAP rejected the request"


class SapUnavailable(SapError):
    """5xx, proxy pages, connection errors, timeouts: the Service Layer did not answer properly."""

    code = "sap-unavailable"
    title = "SAP Service Layer unavailable"
    retryable = True


class SapOutcomeUnknown(SapUnavailable):
    """A write got no answer: the document MAY exist. Look it up by external reference before
    posting again (the Service Layer never de-duplicates on its own)."""

    code = "sap-outcome-unknown"
    title = "SAP write outcome unknown"


class SapUnknownError(SapError):
    """A code this client does not know; kept verbatim so it can be classified later."""

    code = "sap-unknown-error"
    title = "Unrecognised SAP error"


AUTH_CODES = frozenset({-304, -306})
SESSION_CODES = frozenset({301})
# 407 "table definition not found" comes from a broken node; a fresh login is re-routed.
BROKEN_NODE_CODES = frozenset({407})
LOGIN_BUSY_CODES = frozenset({299})
BUSINESS_CODES = frozenset({-10, -5002, -1004, -1000, 201, -5006, -6006, 244, -1116, -1120, -2035,
                            701, 702, 703, 704})
# SAP gives row-lock conflicts no code of their own in the Service Layer; these phrases are what
# SQL Server/HANA pass through. Words like "locked period" are handled before this is consulted.
_LOCK_TEXT = re.compile(r"\brow lock|\block (request|timeout|wait)|\blocked by another|\bOITW\b", re.I)
_PERIOD_TEXT = re.compile(r"posting period locked", re.I)


def _int_code(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def parse_answer(status: int | None, content: bytes) -> SapAnswer:
    """Read either envelope; anything that is not one (HTML proxy page, empty) keeps its text."""
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = content[:300].decode("utf-8", "replace").strip() if content else ""
        return SapAnswer(status, None, _strip_html(text) or f"HTTP {status}")
    message = error.get("message")
    if isinstance(message, dict):  # v1: {"lang":..., "value":...}
        message = message.get("value")
    raw_details = error.get("details")
    details = [d for d in raw_details if isinstance(d, dict)] if isinstance(raw_details, list) else []
    return SapAnswer(status, _int_code(error.get("code")), str(message or ""), details)


def _strip_html(text: str) -> str:
    """A 502 from the Apache load balancer is an HTML page; keep its words, not its markup."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


def error_class(answer: SapAnswer) -> type[SapError]:
    code, status = answer.sap_code, answer.http_status or 0
    if code in AUTH_CODES:
        return SapAuthError
    if code in SESSION_CODES:
        return SapSessionExpired
    if code == -2028 or (code is None and status == 404):
        return SapNotFound
    if code == -4013 or _PERIOD_TEXT.search(answer.message):
        return SapPeriodLocked
    if code == -2039 or status == 412:
        return SapConcurrencyConflict
    if code == -2038 or "deadlock" in answer.message.lower():
        return SapDeadlock
    if _LOCK_TEXT.search(answer.message):
        return SapLocked
    if code in BUSINESS_CODES:
        return SapBusinessError
    if code in LOGIN_BUSY_CODES or code in BROKEN_NODE_CODES or (code is None and status >= 500):
        return SapUnavailable
    if code is None and status >= 400:
        return SapBusinessError if status < 500 else SapUnavailable
    return SapUnknownError if status < 500 else SapUnavailable


def to_error(answer: SapAnswer, request: SapRequest | None, *, write: bool = False) -> SapError:
    cls = error_class(answer)
    # A 5xx without SAP's own error envelope (proxy page, gateway timeout) on a write tells us
    # nothing about whether the document was committed.
    if write and cls is SapUnavailable and answer.sap_code is None:
        cls = SapOutcomeUnknown
    return cls(answer.message, sap_code=answer.sap_code, http_status=answer.http_status,
               request=request, details=answer.details)

"""The one error family of b1bridge.

Every error the API can answer with is an `AppError` with a status code; the handlers in
`app.main` render it as RFC 9457 problem details (`application/problem+json`). Errors raised by
the SAP and IP clients derive from `ExternalError` and say whether they are retryable, so the
write-back pipeline turns only that family into a job retry.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://b1bridge.dev/problems/"


class AppError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(AppError):
    status = 400
    code = "bad-request"
    title = "Bad request"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Insufficient scope"


class NotFound(AppError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class Unprocessable(AppError):
    status = 422
    code = "validation-error"
    title = "Validation failed"


class ServiceUnavailable(AppError):
    status = 503
    code = "service-unavailable"
    title = "Service unavailable"


class ConfigurationError(AppError):
    """The configuration cannot work (raised at start-up, printed by the CLI)."""

    status = 500
    code = "configuration-error"
    title = "Invalid configuration"


class ExternalError(AppError):
    """A call to SAP B1 or Inventory Planner failed. `retryable` drives every retry decision."""

    status = 502
    code = "upstream-error"
    title = "Upstream system error"
    retryable: ClassVar[bool] = False

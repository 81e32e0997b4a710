"""Typed errors of the Inventory Planner integration.

Every error derives from `app.errors.ExternalError`; `retryable` is the only thing the job layer
looks at to decide between `arq.Retry` and an exception for a human (DESIGN habit 6).
"""

from __future__ import annotations

from typing import Any, ClassVar

from app.errors import ExternalError


class IPError(ExternalError):
    """Base of every Inventory Planner failure."""

    code = "inventory-planner-error"
    title = "Inventory Planner error"
    retryable: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, *, http_status: int | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.http_status = http_status


class IPAuthError(IPError):
    """401/403: wrong key/account, a key of a user without full access, or Cloudflare (§4, §9)."""

    code = "inventory-planner-auth"
    title = "Inventory Planner refused the credentials"


class IPNotFound(IPError):
    code = "inventory-planner-not-found"
    title = "Inventory Planner record not found"


class IPValidationError(IPError):
    """A 4xx business refusal (or a 2xx carrying the error envelope, §9): retrying will not help."""

    code = "inventory-planner-validation"
    title = "Inventory Planner rejected the request"


class IPReadonly(IPValidationError):
    """We refused locally to write a PO IP marks `readonly` (§10.7); nothing was sent."""

    code = "inventory-planner-readonly"
    title = "Inventory Planner purchase order is read-only"


class IPBadPayload(IPError):
    """IP answered something we cannot parse (not JSON, no wrapper, wrong shapes)."""

    code = "inventory-planner-bad-payload"
    title = "Inventory Planner answered an unreadable payload"


class IPUnavailable(IPError):
    """5xx, timeouts and connection errors: transient by nature."""

    code = "inventory-planner-unavailable"
    title = "Inventory Planner is unavailable"
    retryable = True


class IPRateLimited(IPUnavailable):
    """429: throttled (§5, §9); `retry_after` seconds come from the Retry-After header."""

    code = "inventory-planner-rate-limited"
    title = "Inventory Planner throttled the request"

    def __init__(
        self, detail: str | None = None, *, retry_after: float | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class FeedValidationError(IPError):
    """A CSV file would be silently skipped by IP (§2.2): never upload it."""

    code = "inventory-planner-feed-invalid"
    title = "CSV feed file does not match Inventory Planner's spec"


class SftpDeliveryError(IPError):
    """Uploading a feed file over SFTP failed."""

    code = "inventory-planner-sftp"
    title = "SFTP delivery to Inventory Planner failed"
    retryable = True

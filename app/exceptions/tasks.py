"""Escalation: tell the owning team's channel about a new (or reopened) error/critical exception."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from arq import Retry

from app.db.session import session_scope
from app.exceptions import service
from app.exceptions.types import ACTIVE
from app.kit.http import make_client
from app.runtime import Runtime
from app.worker.jobs import job

log = logging.getLogger("b1bridge.exceptions")

RETRY_DEFER_SECONDS = 60
# A chat webhook that is down for a while should not lose the message; 4xx means our request is
# wrong (or the hook was revoked) and retrying would not help.
RETRYABLE_STATUS = frozenset({408, 425, 429})


def _client(runtime: Runtime) -> httpx.AsyncClient:
    return make_client("", timeout=10.0, headers={"Content-Type": "application/json"})


@job(service.ESCALATE_JOB)
async def escalate(runtime: Runtime, exception_id: str) -> dict[str, Any]:
    async with session_scope(runtime.sessionmaker) as session:
        row = await service.find(session, exception_id)
        if row is None or row.status not in ACTIVE:
            # Resolved or ignored before the job ran: nobody needs to be woken up any more.
            log.info("exceptions.escalation_skipped", extra={"exception_id": exception_id})
            return {"escalated": False, "reason": "gone" if row is None else f"status {row.status}"}
        payload = service.escalation_payload(row)
    url = runtime.settings.escalation_webhook_url
    fields = {"exception_id": exception_id, "owner": payload["owner"], "type": payload["exception"]["type"]}
    if not url:
        log.warning("exceptions.escalated", extra={**fields, "channel": "log", "title": payload["text"]})
        return {"escalated": True, "channel": "log"}
    await _post(runtime, url, payload, fields)
    return {"escalated": True, "channel": "webhook"}


async def _post(runtime: Runtime, url: str, payload: dict[str, Any], fields: dict[str, Any]) -> None:
    client: httpx.AsyncClient = runtime.client("escalation-webhook", _client)
    try:
        response = await client.post(url, json=payload)
    except httpx.HTTPError as exc:
        log.warning("exceptions.escalation_failed", extra={**fields, "error": type(exc).__name__})
        raise Retry(defer=RETRY_DEFER_SECONDS)
    if response.status_code >= 500 or response.status_code in RETRYABLE_STATUS:
        log.warning("exceptions.escalation_failed", extra={**fields, "status_code": response.status_code})
        raise Retry(defer=RETRY_DEFER_SECONDS)
    if response.is_error:
        log.error("exceptions.escalation_rejected", extra={**fields, "status_code": response.status_code})
        return
    log.info("exceptions.escalated",
             extra={**fields, "channel": "webhook", "status_code": response.status_code})


FUNCTIONS = [escalate]

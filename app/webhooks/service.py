"""Webhook intake: authenticate, bound, parse, store, and queue a re-fetch (the payload is a hint).

Nothing in the body is trusted beyond the PO ids it names: the ingest job re-reads each PO from IP
before deciding anything, so a forged-but-authenticated body can at worst cause a re-fetch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db.session import session_scope
from app.errors import Conflict, PayloadTooLarge, Unauthorized, Unprocessable
from app.kit.context import current_request_id
from app.kit.groupcommit import GroupCommit
from app.kit.time import utcnow
from app.models.base import new_id
from app.runtime import Runtime
from app.webhooks import repository, signatures

INGEST_JOB = "recommendations.ingest_po"


@dataclass(frozen=True)
class Accepted:
    delivery_id: str
    po_ids: list[str]
    duplicate: bool


def check_token(settings: Settings, token: str) -> None:
    if not signatures.token_matches(token, settings.ip.webhook_token.get_secret_value()):
        raise Unauthorized("Unknown webhook address.")


async def read_bounded(chunks: AsyncIterator[bytes], limit: int, declared: str | None) -> bytes:
    """Read at most `limit` bytes: a declared or streamed larger body is refused (413) before it
    is buffered, so a client cannot make us hold an arbitrary amount of memory."""
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
    body = bytearray()
    async for chunk in chunks:
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
    return bytes(body)


def verify_signature(settings: Settings, headers: Mapping[str, str], body: bytes) -> str | None:
    """The webhook-id of a verified signed delivery; None when no signing secret is configured."""
    secret = settings.ip.webhook_signing_secret
    if secret is None:
        return None
    try:
        signed = signatures.SignedHeaders(
            headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
        )
    except KeyError:
        raise Unauthorized("Signed deliveries need webhook-id, webhook-timestamp and webhook-signature.")
    try:
        signatures.verify(
            secret.get_secret_value(),
            signed,
            body,
            now=time.time(),
            tolerance=settings.writeback.webhook_tolerance_seconds,
        )
    except signatures.SignatureError as exc:
        raise Unauthorized(str(exc))
    except signatures.StaleDelivery as exc:
        raise Conflict(f"Replayed or stale delivery: {exc}")
    return signed.webhook_id[:200]


def _records(payload: Any) -> list[Any]:
    # The invocation body is undocumented (IP §8): accept the API's wrappers and a bare PO.
    if isinstance(payload, dict):
        for key in ("purchase-orders", "purchase_orders", "data"):
            if isinstance(payload.get(key), list):
                return list(payload[key])
        for key in ("purchase-order", "purchase_order"):
            if isinstance(payload.get(key), dict):
                return [payload[key]]
        return [payload]
    return payload if isinstance(payload, list) else []


def parse(body: bytes) -> tuple[Any, list[tuple[str, str]]]:
    """(payload, [(po_id, last_modified)]); 422 unless it is JSON naming at least one PO id."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise Unprocessable("The body is not JSON.")
    found = []
    for record in _records(payload):
        po_id = record.get("id") if isinstance(record, dict) else None
        if isinstance(po_id, str | int) and not isinstance(po_id, bool) and str(po_id).strip():
            found.append((str(po_id).strip()[:100], str(record.get("last_modified") or "")))
    if not found:
        raise Unprocessable("The delivery names no purchase-order id.")
    return payload, found


def dedupe_key(webhook_id: str | None, found: list[tuple[str, str]], digest: str) -> str:
    if webhook_id:
        return f"id:{webhook_id}"
    # Without last_modified we cannot tell two changes apart except by their bodies.
    if all(modified for _, modified in found):
        marker = hashlib.sha256(json.dumps(sorted(found)).encode()).hexdigest()
        return f"po:{marker}"
    return f"body:{digest}"


@dataclass(frozen=True)
class _Pending:
    """One delivery, built in its request (request id included), waiting for its batch."""

    values: dict[str, Any]
    jobs: list[dict[str, Any]]


async def store(
    runtime: Runtime,
    *,
    found: list[tuple[str, str]],
    payload: Any,
    body: bytes,
    webhook_id: str | None,
    topic: str | None,
) -> Accepted:
    """Store the delivery and its ingest jobs; returns once they are committed.

    Concurrent deliveries share one transaction (a group commit, app.kit.groupcommit): each
    request's own transaction was two INSERTs around a commit, and on SQLite those commits
    queued for the one write lock, waiting in its busy handler's sleeps.
    """
    digest = hashlib.sha256(body).hexdigest()
    delivery_id = new_id()
    po_ids = sorted({po for po, _ in found})
    values = {
        "id": delivery_id,
        "source": "inventory_planner",
        "dedupe_key": dedupe_key(webhook_id, found, digest),
        "webhook_id": webhook_id,
        "topic": topic,
        "po_ids": po_ids,
        "body_sha256": digest,
        "body": payload,
        "signed": webhook_id is not None,
        "received_at": utcnow(),
    }
    jobs = [_ingest_job(po_id, delivery_id) for po_id in po_ids]
    group: GroupCommit[_Pending, Accepted] = runtime.client(
        "webhook-intake", lambda rt: GroupCommit(functools.partial(_store_many, rt))
    )
    return await group(_Pending(values, jobs))


async def _store_many(runtime: Runtime, items: list[_Pending]) -> list[Accepted | BaseException]:
    """One transaction: the new deliveries (a duplicate dedupe key, stored before or earlier in
    this batch, inserts nothing), their ingest jobs, and what the duplicates duplicate."""
    async with session_scope(runtime.sessionmaker) as session:
        stored = await repository.insert_new(session, [item.values for item in items])
        await repository.add_jobs(
            session, [job for item in items if item.values["id"] in stored for job in item.jobs]
        )
        keys = [item.values["dedupe_key"] for item in items if item.values["id"] not in stored]
        existing = await repository.by_dedupe_keys(session, keys) if keys else {}
    results: list[Accepted | BaseException] = []
    for item in items:
        values = item.values
        if values["id"] in stored:
            results.append(Accepted(values["id"], values["po_ids"], duplicate=False))
        elif values["webhook_id"]:  # the same signed message again: a replay, whoever sends it
            results.append(Conflict("This webhook-id was already received."))
        else:  # an unsigned duplicate is IP retrying or double-sending: acknowledge, change nothing
            delivery_id, po_ids = existing.get(values["dedupe_key"], ("", []))
            results.append(Accepted(delivery_id, po_ids, duplicate=True))
    return results


def _ingest_job(po_id: str, delivery_id: str) -> dict[str, Any]:
    """The outbox row `outbox.enqueue` would write (same columns, deterministic job id)."""
    return {
        "id": new_id(),
        "job_name": INGEST_JOB,
        "job_id": f"ingest:{po_id}:{delivery_id}",
        "args": {"po_id": po_id, "delivery_id": delivery_id},
        "defer_seconds": 0.0,
        "request_id": current_request_id(),
        "created_at": utcnow(),
        "enqueued_at": None,
        "attempts": 0,
        "last_error": None,
    }


async def purge_batch(session: AsyncSession, *, retention_days: int, now: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` processed deliveries older than the retention; how many went.

    Processed: every ingest job the delivery queued has left the outbox for the queue. A delivery
    whose job still waits there (Redis was down, the relay is behind) is kept however old it is,
    so a purge can never lose the only trace of a PO change. Replay protection does not need
    old rows: a signed delivery is refused by its timestamp long before the retention ends.
    """
    ids = await repository.processed_before(session, now - timedelta(days=retention_days), limit=limit)
    return await repository.delete_ids(session, ids) if ids else 0

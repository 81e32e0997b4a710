"""The exception register's API for every other domain (detectors, sync, write-back, feeds).

Services take the session and never commit. `raise_exception` is an upsert by dedupe key, so a
detector may call it on every run: the row's count and last-seen move, a resolved one reopens, an
ignored one stays ignored (a human decided) but still counts.
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit import service as audit
from app.auth.service import Principal
from app.errors import BadRequest, Conflict, NotFound
from app.exceptions import repository
from app.exceptions.repository import ExceptionFilter
from app.exceptions.types import ACTIVE, ESCALATING, TRANSITIONS, spec_for
from app.kit.pagination import decode_cursor, encode_cursor
from app.kit.redact import redact
from app.kit.time import as_utc, utcnow
from app.models.exception import BusinessException, ExceptionStatus, ExceptionType, Severity
from app.outbox import service as outbox

log = logging.getLogger("b1bridge.exceptions")

SYSTEM = "system"
ENTITY = "exception"
ESCALATE_JOB = "exceptions.escalate"

RetryHandler = Callable[[AsyncSession, BusinessException, dict[str, Any], Principal],
                        Awaitable[dict[str, Any]]]
_retry_handlers: dict[ExceptionType, RetryHandler] = {}


@dataclass(frozen=True)
class ExceptionPage:
    items: Sequence[BusinessException]
    next_cursor: str | None


# --- subjects and keys ---------------------------------------------------------------------------

def canonical_subject(subject: Mapping[str, Any]) -> dict[str, Any]:
    """Keys sorted, None dropped, scalars as trimmed strings: {"sku": 1} and {"sku": " 1"} are one."""
    def value(v: Any) -> Any:
        if isinstance(v, Mapping):
            return canonical_subject(v)
        if isinstance(v, builtins.list | tuple):
            return [value(item) for item in v]
        return str(v).strip()

    return {str(k): value(v) for k, v in sorted(subject.items(), key=lambda kv: str(kv[0])) if v is not None}


def subject_text(subject: Mapping[str, Any]) -> str:
    parts = [f"{k}={v if isinstance(v, str) else json.dumps(v, sort_keys=True)}"
             for k, v in canonical_subject(subject).items()]
    return " ".join(parts)[:500]


def dedupe_key(type_: ExceptionType | str, subject: Mapping[str, Any]) -> str:
    """Stable across processes and releases: the type plus a hash of the canonical subject."""
    canonical = json.dumps(canonical_subject(subject), sort_keys=True, separators=(",", ":"))
    return f"{ExceptionType(type_).value}:{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"


# --- raising and clearing ------------------------------------------------------------------------

async def raise_exception(
    session: AsyncSession,
    type: ExceptionType | str,
    subject: Mapping[str, Any],
    *,
    severity: Severity | str | None = None,
    evidence: Mapping[str, Any] | None = None,
    message: str | None = None,
    suggested_action: str | None = None,
    source: str | None = None,
    related: Mapping[str, Any] | None = None,
) -> BusinessException:
    type_ = ExceptionType(type)
    canonical = canonical_subject(subject)
    key = dedupe_key(type_, canonical)
    level = Severity(severity) if severity is not None else None
    details = _Details(level, evidence, message, suggested_action, source, related)
    existing = await repository.by_dedupe_key(session, key)
    if existing is None:
        row = _new_row(type_, canonical, key, details)
        if await repository.insert(session, row):
            await _after_open(session, row, "exception.opened")
            return row
        # Another worker inserted the same key between our read and our insert: count ours on it.
        existing = await repository.by_dedupe_key(session, key)
        assert existing is not None
    return await _recur(session, existing, details)


@dataclass(frozen=True)
class _Details:
    severity: Severity | None
    evidence: Mapping[str, Any] | None
    message: str | None
    suggested_action: str | None
    source: str | None
    related: Mapping[str, Any] | None


def _new_row(type_: ExceptionType, subject: dict[str, Any], key: str, d: _Details) -> BusinessException:
    spec, text = spec_for(type_), subject_text(subject)
    now = utcnow()
    return BusinessException(
        type=type_, owner=spec.owner, severity=d.severity or spec.severity, subject=subject,
        subject_text=text, dedupe_key=key, title=spec.render_title(subject, text),
        message=_clip(d.message, 4000), suggested_action=_clip(d.suggested_action or spec.action, 2000),
        evidence=redact(dict(d.evidence or {})), source=d.source, related=dict(d.related or {}),
        first_seen_at=now, last_seen_at=now, status_changed_at=now, status_actor=SYSTEM)


async def _recur(session: AsyncSession, row: BusinessException, d: _Details) -> BusinessException:
    previous = Severity(row.severity)
    row.occurrences += 1
    row.last_seen_at = utcnow()
    # JSON columns are reassigned, never mutated in place, so SQLAlchemy sees the change.
    if d.evidence is not None:
        row.evidence = redact(dict(d.evidence))
    if d.related:
        row.related = {**row.related, **d.related}
    row.severity = d.severity or row.severity
    row.message = _clip(d.message, 4000) or row.message
    row.suggested_action = _clip(d.suggested_action, 2000) or row.suggested_action
    row.source = d.source or row.source
    if row.status == ExceptionStatus.resolved:
        _set_status(row, ExceptionStatus.open, actor=SYSTEM, note="The condition recurred.")
        row.resolved_at, row.reopened_at = None, row.status_changed_at
        row.reopen_count += 1
        await _after_open(session, row, "exception.reopened")
    elif row.status in ACTIVE and _escalated(previous, Severity(row.severity)):
        await _escalate(session, row, suffix=f":{row.severity}")
    await repository.flush(session)
    return row


def _escalated(previous: Severity, current: Severity) -> bool:
    # An open exception that worsens into error/critical (e.g. growing sync lag) is news too.
    return current in ESCALATING and current.rank > previous.rank


async def _after_open(session: AsyncSession, row: BusinessException, action: str) -> None:
    await audit.record(session, actor=SYSTEM, action=action, entity_type=ENTITY, entity_id=row.id,
                       after=_state(row), note=f"raised by {row.source}" if row.source else None)
    if Severity(row.severity) in ESCALATING:
        await _escalate(session, row)
    log.info(action.replace("exception.", "exceptions."),
             extra={"exception_id": row.id, "type": row.type, "subject": row.subject_text})


async def _escalate(session: AsyncSession, row: BusinessException, *, suffix: str = "") -> None:
    await outbox.enqueue(session, ESCALATE_JOB, job_id=f"escalate:{row.id}:{row.reopen_count}{suffix}",
                         exception_id=row.id)


async def clear(session: AsyncSession, type: ExceptionType | str, subject: Mapping[str, Any]) -> bool:
    """Auto-resolve: the condition no longer holds. True when an open/acknowledged row was resolved."""
    return bool(await clear_many(session, [(type, subject)]))


async def clear_many(
    session: AsyncSession, conditions: Iterable[tuple[ExceptionType | str, Mapping[str, Any]]]
) -> int:
    """`clear` for many (type, subject) conditions in one query; how many rows were resolved."""
    keys = [dedupe_key(type_, subject) for type_, subject in conditions]
    if not keys:
        return 0
    rows = await repository.active_by_dedupe_keys(session, keys)
    for row in rows:
        await _auto_resolve(session, row)
    return len(rows)


async def clear_missing(
    session: AsyncSession,
    type: ExceptionType | str,
    still_present: Iterable[str | Mapping[str, Any]],
    *,
    source: str | None = None,
) -> int:
    """Resolve every active exception of `type` (and `source`) a detector no longer sees.

    `still_present` holds dedupe keys or subjects of what the detector found on this run.
    """
    type_ = ExceptionType(type)
    keys = {item if isinstance(item, str) else dedupe_key(type_, item) for item in still_present}
    resolved = 0
    for row in await repository.active_of_type(session, type_, source=source):
        if row.dedupe_key not in keys:
            await _auto_resolve(session, row)
            resolved += 1
    return resolved


async def _auto_resolve(session: AsyncSession, row: BusinessException) -> None:
    before = _state(row)
    _set_status(row, ExceptionStatus.resolved, actor=SYSTEM, note="The condition no longer holds.")
    row.resolved_at = row.status_changed_at
    await repository.flush(session)
    await audit.record(session, actor=SYSTEM, action="exception.auto_resolved", entity_type=ENTITY,
                       entity_id=row.id, before=before, after=_state(row))
    log.info("exceptions.auto_resolved", extra={"exception_id": row.id, "type": row.type})


# --- status changes through the API --------------------------------------------------------------

async def transition(
    session: AsyncSession, exception_id: str, action: str, *, actor: str, note: str | None
) -> BusinessException:
    allowed_from, target = TRANSITIONS[action]
    row = await get(session, exception_id)
    if row.status not in allowed_from:
        starts = ", ".join(sorted(s.value for s in allowed_from))
        raise Conflict(f"Cannot {action} an exception that is {row.status}; {action} applies to: {starts}.",
                       current_status=row.status)
    before = _state(row)
    _set_status(row, target, actor=actor, note=note)
    row.resolved_at = row.status_changed_at if target == ExceptionStatus.resolved else None
    if action == "reopen":
        row.reopened_at = row.status_changed_at
        row.reopen_count += 1
    await repository.flush(session)
    await audit.record(session, actor=actor, action=f"exception.{action}", entity_type=ENTITY,
                       entity_id=row.id, before=before, after=_state(row), note=note)
    return row


def register_retry_handler(type: ExceptionType | str, handler: RetryHandler) -> None:
    """Let the domain that owns a failure retry it with corrections (e.g. write-back for POST_FAILED)."""
    _retry_handlers[ExceptionType(type)] = handler


def retry_handler_for(type: ExceptionType | str) -> RetryHandler | None:
    return _retry_handlers.get(ExceptionType(type))


async def retry(
    session: AsyncSession, exception_id: str, *, corrections: dict[str, Any], note: str | None,
    principal: Principal,
) -> tuple[BusinessException, dict[str, Any]]:
    row = await get(session, exception_id)
    handler = retry_handler_for(row.type)
    if handler is None:
        raise Conflict(f"{row.type} exceptions cannot be retried: they resolve themselves once the cause "
                       f"is fixed. {row.suggested_action or ''}".strip(), exception_type=row.type)
    if row.status not in ACTIVE:
        raise Conflict(f"Cannot retry an exception that is {row.status}; only open or acknowledged ones.",
                       current_status=row.status)
    before = _state(row)
    result = await handler(session, row, corrections, principal)
    await repository.flush(session)
    await audit.record(session, actor=principal.actor, action="exception.retry", entity_type=ENTITY,
                       entity_id=row.id, before=before,
                       after={**_state(row), "corrections": corrections, "result": result}, note=note)
    return row, result


# --- reading -------------------------------------------------------------------------------------

async def find(session: AsyncSession, exception_id: str) -> BusinessException | None:
    return await repository.by_id(session, exception_id)


async def get(session: AsyncSession, exception_id: str) -> BusinessException:
    row = await repository.by_id(session, exception_id)
    if row is None:
        raise NotFound(f"No exception with id {exception_id}.")
    return row


# Named `list` because other domains call `exception_service.list`; builtins.list is used above.
async def list(
    session: AsyncSession, where: ExceptionFilter | None = None, *, cursor: str | None = None,
    limit: int = 50,
) -> ExceptionPage:
    where = where or ExceptionFilter()
    if cursor:
        where = dataclasses.replace(where, after=_decode(cursor))
    rows = await repository.page(session, where, limit=limit + 1)
    items = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_cursor({"t": as_utc(items[-1].last_seen_at).isoformat(), "id": items[-1].id}) \
        if more else None
    return ExceptionPage(items=items, next_cursor=next_cursor)


async def summary(session: AsyncSession) -> Sequence[tuple[str, str, str, int]]:
    """(owner, type, status, count) for every combination that has at least one exception."""
    return await repository.counts(session)


def escalation_payload(row: BusinessException) -> dict[str, Any]:
    """What a team channel receives: `text` for chat webhooks (Slack, Teams), the rest for machines."""
    return {
        "text": f"[{str(row.severity).upper()}] {row.owner}: {row.title}",
        "owner": str(row.owner),
        "exception": {
            "id": row.id, "type": str(row.type), "severity": str(row.severity), "status": str(row.status),
            "title": row.title, "message": row.message, "suggested_action": row.suggested_action,
            "subject": row.subject, "source": row.source, "related": row.related,
            "occurrences": row.occurrences, "reopen_count": row.reopen_count,
            "first_seen_at": as_utc(row.first_seen_at).isoformat(),
            "last_seen_at": as_utc(row.last_seen_at).isoformat(),
        },
    }


def _decode(cursor: str) -> tuple[datetime, str]:
    values = decode_cursor(cursor)
    try:
        return as_utc(datetime.fromisoformat(str(values["t"]))), str(values["id"])
    except (KeyError, ValueError):
        raise BadRequest("The cursor is not valid; use the next_cursor of a previous page.")


def _set_status(row: BusinessException, status: ExceptionStatus, *, actor: str, note: str | None) -> None:
    row.status = status
    row.status_changed_at = utcnow()
    row.status_actor = actor
    row.status_note = _clip(note, 2000)


def _state(row: BusinessException) -> dict[str, Any]:
    return {"type": str(row.type), "status": str(row.status), "severity": str(row.severity),
            "owner": str(row.owner), "subject": row.subject, "occurrences": row.occurrences,
            "reopen_count": row.reopen_count, "status_actor": row.status_actor,
            "status_note": row.status_note}


def _clip(text: str | None, size: int) -> str | None:
    return text[:size] if text else None

"""The service other domains call: raise_exception (upsert), clear, clear_missing, reopen, ignore."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.exceptions import service as exceptions
from app.models.exception import BusinessException, ExceptionStatus, ExceptionType, Owner, Severity
from app.models.outbox import OutboxMessage

T = ExceptionType


async def _rows(session: AsyncSession) -> list[BusinessException]:
    return list((await session.exec(select(BusinessException))).all())


async def _outbox(session: AsyncSession) -> list[str]:
    return [m.job_id for m in (await session.exec(select(OutboxMessage))).all()]


async def test_same_type_and_subject_twice_is_one_row_seen_twice(session: AsyncSession) -> None:
    first = await exceptions.raise_exception(session, T.UNMAPPED_WAREHOUSE, {"warehouse": "W09"},
                                             evidence={"run": 1}, source="sync.stock")
    again = await exceptions.raise_exception(session, T.UNMAPPED_WAREHOUSE, {"warehouse": " W09 "},
                                             evidence={"run": 2}, source="sync.stock")
    rows = await _rows(session)
    assert len(rows) == 1 and first.id == again.id
    assert again.occurrences == 2
    assert again.evidence == {"run": 2}
    assert again.last_seen_at >= again.first_seen_at


async def test_defaults_come_from_the_type_table(session: AsyncSession) -> None:
    row = await exceptions.raise_exception(session, T.LOCKED_PERIOD, {"date": "2026-11-30"})
    assert row.owner == Owner.finance
    assert row.severity == Severity.error
    assert row.title == "Posting period for 2026-11-30 is locked in SAP"
    assert row.suggested_action and "period" in row.suggested_action
    drift = await exceptions.raise_exception(session, T.STOCK_DRIFT, {"only": "x"})
    assert drift.owner == Owner.operations
    assert drift.title == "Stock drift (only=x)"  # the template's keys are missing: label + subject


async def test_evidence_secrets_are_redacted(session: AsyncSession) -> None:
    row = await exceptions.raise_exception(
        session, T.POST_FAILED, {"document": "PO-1"},
        evidence={"request": {"headers": {"Authorization": "Bearer x", "Cookie": "B1SESSION=abc"}},
                  "response": {"code": -5002}})
    assert row.evidence["request"]["headers"] == {"Authorization": "***", "Cookie": "***"}
    assert row.evidence["response"] == {"code": -5002}


async def test_clear_resolves_when_the_condition_is_gone(session: AsyncSession) -> None:
    row = await exceptions.raise_exception(session, T.INACTIVE_ITEM, {"sku": "A1"})
    assert await exceptions.clear(session, T.INACTIVE_ITEM, {"sku": "A1"}) is True
    assert row.status == ExceptionStatus.resolved
    assert row.status_actor == "system" and row.resolved_at is not None
    assert await exceptions.clear(session, T.INACTIVE_ITEM, {"sku": "A1"}) is False
    assert await exceptions.clear(session, T.INACTIVE_ITEM, {"sku": "never-raised"}) is False


async def test_clear_missing_resolves_what_the_detector_no_longer_sees(session: AsyncSession) -> None:
    for sku in ("A", "B", "C"):
        await exceptions.raise_exception(session, T.STOCK_DRIFT, {"sku": sku, "warehouse": "01"},
                                         source="detector.drift")
    other_source = await exceptions.raise_exception(session, T.STOCK_DRIFT, {"sku": "Z", "warehouse": "01"},
                                                    source="detector.other")
    key_b = exceptions.dedupe_key(T.STOCK_DRIFT, {"sku": "B", "warehouse": "01"})
    resolved = await exceptions.clear_missing(
        session, T.STOCK_DRIFT, {key_b} | set(), source="detector.drift")
    assert resolved == 2
    by_sku = {r.subject["sku"]: r.status for r in await _rows(session)}
    assert by_sku == {"A": "resolved", "B": "open", "C": "resolved", "Z": "open"}
    assert other_source.status == ExceptionStatus.open
    # Subjects work as well as keys.
    assert await exceptions.clear_missing(session, T.STOCK_DRIFT, [{"sku": "B", "warehouse": "01"}],
                                          source="detector.drift") == 0


async def test_a_resolved_exception_that_recurs_reopens_the_same_row(session: AsyncSession) -> None:
    row = await exceptions.raise_exception(session, T.UNMAPPED_VENDOR, {"vendor": "Acme"})
    await exceptions.clear(session, T.UNMAPPED_VENDOR, {"vendor": "Acme"})
    again = await exceptions.raise_exception(session, T.UNMAPPED_VENDOR, {"vendor": "Acme"})
    assert again.id == row.id
    assert again.status == ExceptionStatus.open
    assert again.occurrences == 2 and again.reopen_count == 1
    assert again.reopened_at is not None and again.resolved_at is None
    assert len(await _rows(session)) == 1


async def test_an_ignored_exception_stays_ignored_but_counts(session: AsyncSession) -> None:
    row = await exceptions.raise_exception(session, T.NON_NETTABLE_STOCK, {"sku": "A", "warehouse": "Q"})
    await exceptions.transition(session, row.id, "ignore", actor="apikey:ops", note="quarantine is fine")
    again = await exceptions.raise_exception(session, T.NON_NETTABLE_STOCK, {"sku": "A", "warehouse": "Q"})
    assert again.status == ExceptionStatus.ignored
    assert again.occurrences == 2
    assert await exceptions.clear(session, T.NON_NETTABLE_STOCK, {"sku": "A", "warehouse": "Q"}) is False


async def test_error_exceptions_escalate_once_per_opening(session: AsyncSession) -> None:
    row = await exceptions.raise_exception(session, T.POST_FAILED, {"document": "PO-7"})
    await exceptions.raise_exception(session, T.POST_FAILED, {"document": "PO-7"})
    assert await _outbox(session) == [f"escalate:{row.id}:0"]
    await exceptions.clear(session, T.POST_FAILED, {"document": "PO-7"})
    await exceptions.raise_exception(session, T.POST_FAILED, {"document": "PO-7"})
    assert sorted(await _outbox(session)) == [f"escalate:{row.id}:0", f"escalate:{row.id}:1"]


async def test_warnings_do_not_escalate_until_they_worsen(session: AsyncSession) -> None:
    row = await exceptions.raise_exception(session, T.SYNC_LAG, {"stream": "items"})
    assert await _outbox(session) == []
    await exceptions.raise_exception(session, T.SYNC_LAG, {"stream": "items"}, severity="critical")
    assert await _outbox(session) == [f"escalate:{row.id}:0:critical"]


async def test_dedupe_key_is_stable_and_order_independent() -> None:
    a = exceptions.dedupe_key(T.SKU_MISMATCH, {"sku": "A", "warehouse": "01"})
    b = exceptions.dedupe_key("SKU_MISMATCH", {"warehouse": "01", "sku": "A", "ignored": None})
    assert a == b and a.startswith("SKU_MISMATCH:")
    assert a != exceptions.dedupe_key(T.STOCK_DRIFT, {"sku": "A", "warehouse": "01"})

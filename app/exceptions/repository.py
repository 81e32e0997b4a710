"""All SQL of the exception register."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.params import one_of
from app.exceptions.types import ACTIVE
from app.models.exception import BusinessException, ExceptionStatus, ExceptionType, Owner, Severity


@dataclass(frozen=True)
class ExceptionFilter:
    types: Sequence[ExceptionType] = ()
    owners: Sequence[Owner] = ()
    statuses: Sequence[ExceptionStatus] = ()
    severities: Sequence[Severity] = ()
    subject: str | None = None
    since: datetime | None = None
    source: str | None = None
    after: tuple[datetime, str] | None = field(default=None)  # keyset position (last_seen_at, id)


async def by_id(session: AsyncSession, exception_id: str) -> BusinessException | None:
    return await session.get(BusinessException, exception_id)


async def by_dedupe_key(session: AsyncSession, key: str) -> BusinessException | None:
    statement = select(BusinessException).where(BusinessException.dedupe_key == key)
    return (await session.exec(statement)).first()


# Built once (app.db.params): write-back's batches clear exceptions for every posted document.
_ACTIVE_BY_KEYS = select(BusinessException).where(
    one_of(BusinessException.dedupe_key, "keys"),
    col(BusinessException.status).in_(ACTIVE),
)


async def active_by_dedupe_keys(session: AsyncSession, keys: Iterable[str]) -> list[BusinessException]:
    return list((await session.exec(_ACTIVE_BY_KEYS, params={"keys": list(set(keys))})).all())


async def insert(session: AsyncSession, row: BusinessException) -> bool:
    """Insert a new exception; False when a concurrent writer inserted the same dedupe key first."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def flush(session: AsyncSession) -> None:
    await session.flush()


async def active_of_type(
    session: AsyncSession, type_: ExceptionType, *, source: str | None = None
) -> Sequence[BusinessException]:
    statement = select(BusinessException).where(
        BusinessException.type == type_, col(BusinessException.status).in_(ACTIVE))
    if source is not None:
        statement = statement.where(BusinessException.source == source)
    return (await session.exec(statement)).all()


async def page(session: AsyncSession, where: ExceptionFilter, *, limit: int) -> Sequence[BusinessException]:
    last_seen, ident = col(BusinessException.last_seen_at), col(BusinessException.id)
    statement = select(BusinessException).order_by(last_seen.desc(), ident.desc()).limit(limit)
    for column, values in ((BusinessException.type, where.types), (BusinessException.owner, where.owners),
                           (BusinessException.status, where.statuses),
                           (BusinessException.severity, where.severities)):
        if values:
            statement = statement.where(col(column).in_(values))
    if where.subject:
        statement = statement.where(
            func.lower(BusinessException.subject_text).contains(where.subject.lower(), autoescape=True))
    if where.since is not None:
        statement = statement.where(last_seen >= where.since)
    if where.source is not None:
        statement = statement.where(BusinessException.source == where.source)
    if where.after is not None:
        at, after_id = where.after
        statement = statement.where(or_(last_seen < at, and_(last_seen == at, ident < after_id)))
    return (await session.exec(statement)).all()


async def counts(session: AsyncSession) -> Sequence[tuple[str, str, str, int]]:
    owner, type_, status = (col(BusinessException.owner), col(BusinessException.type),
                            col(BusinessException.status))
    statement = (select(owner, type_, status, func.count()).group_by(owner, type_, status)
                 .order_by(owner, type_, status))
    return [(str(o), str(t), str(s), int(n)) for o, t, s, n in (await session.exec(statement)).all()]

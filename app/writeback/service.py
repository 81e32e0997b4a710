"""Queueing SAP writes (coalesced per document) and reporting their outcome to their source."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.kit.time import utcnow
from app.models.writeback import SapWrite, WriteStatus
from app.outbox import service as outbox
from app.writeback import repository

POST_JOB = "writeback.post"
# Not yet in SAP and not in flight: a newer write for the same document makes these pointless.
COALESCIBLE = (WriteStatus.queued, WriteStatus.failed, WriteStatus.held)


def job_id(write: SapWrite) -> str:
    return f"writeback:{write.id}:{write.generation}"


def doc_day(write: SapWrite) -> date:
    """The date the document is for: a correction's, else the source's."""
    if write.corrections.get("doc_date"):
        return date.fromisoformat(write.corrections["doc_date"])
    return write.doc_date


async def enqueue(
    session: AsyncSession, write: SapWrite, *, defer_seconds: float = 0.0, suffix: str = ""
) -> None:
    """The job carries the lock keys and the date (pipeline.Hint), so it takes its locks without
    reading the write first."""
    await outbox.enqueue(
        session,
        POST_JOB,
        job_id=job_id(write) + suffix,
        defer_seconds=defer_seconds,
        write_id=write.id,
        skus=write.skus,
        ext_ref=write.ext_ref,
        doc_day=doc_day(write).isoformat(),
    )


async def supersede_older(session: AsyncSession, ext_ref: str, keep: str) -> list[SapWrite]:
    """Coalescing: the newest write for a document wins; queued/failed/held older ones drop out.
    One in flight (posting) finishes first: the newer one then updates what it created."""
    dropped = []
    for older in await repository.writes_for_ext_ref(session, ext_ref, COALESCIBLE):
        if older.id != keep:
            older.status = WriteStatus.superseded
            older.updated_at = utcnow()
            dropped.append(older)
    return dropped


async def queue(
    session: AsyncSession,
    *,
    source_type: str,
    source_id: str,
    entity: str,
    ext_ref: str,
    group_key: str,
    doc_date: date,
    header: dict[str, Any],
    lines: list[dict[str, Any]],
) -> SapWrite:
    write = SapWrite(
        source_type=source_type,
        source_id=source_id,
        entity=entity,
        ext_ref=ext_ref,
        group_key=group_key,
        doc_date=doc_date,
        header=header,
        lines=lines,
        skus=sorted({str(line["item_code"]) for line in lines}),
    )
    await repository.add(session, write)
    await supersede_older(session, ext_ref, keep=write.id)
    await enqueue(session, write)
    return write


async def requeue(
    session: AsyncSession, write: SapWrite, corrections: dict[str, Any] | None = None
) -> SapWrite:
    """Back into the queue (retry of a failed/held/busy write), with a fresh retry budget."""
    if corrections:
        write.corrections = {**write.corrections, **corrections}
    write.generation += 1
    write.attempts = 0
    write.status = WriteStatus.queued
    write.updated_at = utcnow()
    await supersede_older(session, write.ext_ref, keep=write.id)
    await enqueue(session, write)
    return write


async def supersede_source(session: AsyncSession, source_id: str) -> None:
    for write in await repository.writes_for_source(session, source_id):
        if write.status in COALESCIBLE:
            write.status = WriteStatus.superseded
            write.updated_at = utcnow()

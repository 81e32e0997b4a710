"""arq functions of the write-back queue (thin wrappers over app.writeback.pipeline)."""

from __future__ import annotations

from datetime import date

from app.runtime import Runtime
from app.worker.jobs import job
from app.writeback import (
    pipeline,
    retry,  # noqa: F401  (a worker may serve exception retries too)
)


@job("writeback.post")
async def post(
    runtime: Runtime,
    write_id: str,
    skus: list[str] | None = None,
    ext_ref: str | None = None,
    doc_day: str | None = None,
) -> str:
    hint = None
    if skus is not None and ext_ref is not None and doc_day is not None:
        hint = pipeline.Hint(skus, ext_ref, date.fromisoformat(doc_day))
    return await pipeline.run(runtime, write_id, hint)


FUNCTIONS = [post]

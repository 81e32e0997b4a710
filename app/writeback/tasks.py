"""arq functions of the write-back queue (thin wrappers over app.writeback.pipeline)."""

from __future__ import annotations

from app.runtime import Runtime
from app.worker.jobs import job
from app.writeback import (
    pipeline,
    retry,  # noqa: F401  (a worker may serve exception retries too)
)


@job("writeback.post")
async def post(runtime: Runtime, write_id: str) -> str:
    return await pipeline.run(runtime, write_id)


FUNCTIONS = [post]

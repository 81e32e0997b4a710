"""/sync: request a stock run (202 + run id) and read run records."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.auth.deps import ReadDep, WriteDep
from app.db.session import SessionDep
from app.errors import NotFound
from app.kit.pagination import decode_cursor, encode_cursor
from app.models.sync import RunTrigger
from app.sync import repository, service
from app.sync.schemas import RunOut, RunPage, SyncRequest

router = APIRouter(prefix="/sync", tags=["sync"])


@router.post(
    "/stock",
    status_code=202,
    response_model=RunOut,
    summary="Request a stock sync (returns the already pending/running one if any)",
)
async def request_stock_sync(
    body: SyncRequest, request: Request, session: SessionDep, principal: WriteDep
) -> JSONResponse:
    runtime = request.app.state.runtime
    run, created = await service.request_run(
        session, full=body.full, trigger=RunTrigger.api, redis=runtime.redis, settings=runtime.settings
    )
    await session.flush()
    headers = {"Location": f"/sync/runs/{run.id}"}
    return JSONResponse(
        RunOut.of(run).model_dump(mode="json") | {"created": created}, status_code=202, headers=headers
    )


@router.get("/runs", response_model=RunPage)
async def list_runs(
    session: SessionDep,
    principal: ReadDep,
    stream: str | None = None,
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> RunPage:
    before = None
    if cursor:
        from datetime import datetime

        raw = decode_cursor(cursor)
        before = (datetime.fromisoformat(raw["at"]), str(raw["id"]))
    runs = await repository.list_runs(session, stream=stream, before=before, limit=limit + 1)
    more = len(runs) > limit
    runs = runs[:limit]
    next_cursor = encode_cursor({"at": runs[-1].created_at.isoformat(), "id": runs[-1].id}) if more else None
    return RunPage(items=[RunOut.of(r) for r in runs], next_cursor=next_cursor)


@router.get("/runs/{run_id}", response_model=RunOut)
async def get_run(run_id: str, session: SessionDep, principal: ReadDep) -> RunOut:
    run = await repository.get_run(session, run_id)
    if run is None:
        raise NotFound(f"No sync run {run_id}.")
    return RunOut.of(run)

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.health import checks

router = APIRouter(prefix="/health", tags=["health"])


class Live(BaseModel):
    status: str = "ok"


class CheckOut(BaseModel):
    name: str
    ok: bool
    detail: str


class Ready(BaseModel):
    status: str
    checks: list[CheckOut]


@router.get("/live", response_model=Live)
async def live() -> Live:
    return Live()


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready, "description": "Not ready"}})
async def ready(request: Request) -> JSONResponse:
    results = await checks.run_all(request.app.state.runtime)
    ok = all(result.ok for result in results)
    body = Ready(
        status="ready" if ok else "not ready",
        checks=[CheckOut(name=r.name, ok=r.ok, detail=r.detail) for r in results],
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

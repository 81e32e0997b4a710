"""Readiness checks. Other domains add theirs with `register` (e.g. the SAP external-reference UDF)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import text

from app.runtime import Runtime


@dataclass
class CheckResult:
    name: str
    ok: bool = True
    detail: str = "ok"


Check = Callable[[Runtime], Awaitable[CheckResult]]
_checks: list[Check] = []


def register(check: Check) -> Check:
    _checks.append(check)
    return check


@register
async def database(runtime: Runtime) -> CheckResult:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        return CheckResult("database", False, f"{type(exc).__name__}: {exc}"[:300])
    return CheckResult("database")


@register
async def redis(runtime: Runtime) -> CheckResult:
    try:
        await asyncio.wait_for(runtime.redis.ping(), timeout=3)
    except Exception as exc:
        return CheckResult("redis", False, f"{type(exc).__name__}: {exc}"[:300])
    return CheckResult("redis")


async def run_all(runtime: Runtime) -> list[CheckResult]:
    return list(await asyncio.gather(*(check(runtime) for check in _checks)))

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


_SAP_CACHE_SECONDS = 60.0
_sap_cache: dict[str, tuple[float, CheckResult]] = {}


@register
async def sap_external_reference(runtime: Runtime) -> CheckResult:
    """No document may be posted until the idempotency UDF exists (a real Service Layer rejects an
    unknown property, so every post would fail). Cached: readiness probes must not hammer SAP."""
    import time

    cached = _sap_cache.get(runtime.settings.sap.base_url)
    if cached and time.monotonic() - cached[0] < _SAP_CACHE_SECONDS:
        return cached[1]
    result = await _check_sap(runtime)
    _sap_cache[runtime.settings.sap.base_url] = (time.monotonic(), result)
    return result


async def _check_sap(runtime: Runtime) -> CheckResult:
    from app.integrations import clients
    from app.integrations.sap_b1.setup import ext_ref_status

    try:
        status = await asyncio.wait_for(ext_ref_status(clients.sap_reader(runtime)), timeout=3)
    except Exception as exc:  # SAP down or unreachable: not ready, and say why
        return CheckResult("sap_external_reference", False, f"{type(exc).__name__}: {exc}"[:300])
    return CheckResult("sap_external_reference", status.ok, status.detail)


def forget_sap_status() -> None:
    """After `sap setup` or in tests: the next probe asks SAP again."""
    _sap_cache.clear()

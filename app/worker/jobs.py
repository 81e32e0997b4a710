"""Helpers for arq jobs: thin wrappers over testable functions (DESIGN habit 4).

A job is `async def name(ctx, **ids)`; `@job` binds the request id the outbox carried, opens a
span and gives the wrapped function the process `Runtime` (`ctx["runtime"]`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from opentelemetry import trace

from app.kit.context import reset_request_id, set_request_id
from app.runtime import Runtime

tracer = trace.get_tracer("b1bridge.worker")
R = TypeVar("R")


def job(name: str) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """Register `fn(runtime, **kwargs)` as the arq function `name`."""

    def decorate(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(ctx: dict[str, Any], request_id: str | None = None, **kwargs: Any) -> R:
            token = set_request_id(request_id)
            try:
                with tracer.start_as_current_span(f"job {name}") as span:
                    span.set_attribute("arq.job_id", str(ctx.get("job_id")))
                    span.set_attribute("arq.job_try", int(ctx.get("job_try") or 1))
                    runtime: Runtime = ctx["runtime"]
                    return await fn(runtime, **kwargs)
            finally:
                reset_request_id(token)

        wrapper.__qualname__ = name
        wrapper.__name__ = name
        return wrapper

    return decorate

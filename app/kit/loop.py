"""The event loop of the worker: uvloop when it is installed (uvicorn[standard] brings it, and the
API already runs on it), asyncio's own otherwise. On the write-back benchmark uvloop took 10-15 %
off a worker's CPU per document."""

from __future__ import annotations

import asyncio


def install() -> bool:
    """Make new event loops uvloop's; False when uvloop is not available (Windows)."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True

"""`b1bridge sync orders`: one polling pass over IP purchase orders, in the foreground."""

from __future__ import annotations

import asyncio

import typer

from app.config import get_settings
from app.sync.cli import sync_cli


@sync_cli.command("orders")
def sync_orders() -> None:
    """Read IP purchase orders changed since the watermark and turn them into recommendations."""
    from app.recommendations.poll import poll_once
    from app.runtime import Runtime

    async def _run() -> int:
        runtime = Runtime.build(get_settings())
        try:
            return await poll_once(runtime)
        finally:
            await runtime.close()

    count = asyncio.run(_run())
    typer.echo(f"{count} purchase orders read")

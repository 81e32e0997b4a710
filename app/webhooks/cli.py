"""`b1bridge ip webhooks purge`: the daily purge of processed deliveries, in the foreground."""

from __future__ import annotations

import asyncio

import typer

from app.config import get_settings
from app.integrations.inventory_planner.cli import webhooks_cli


@webhooks_cli.command("purge")
def purge(
    days: int | None = typer.Option(
        None, "--days", min=1, help="Keep this many days (default: WRITEBACK_WEBHOOK_RETENTION_DAYS)."
    ),
) -> None:
    """Delete stored webhook deliveries that were processed and are older than the retention."""
    from app.runtime import Runtime
    from app.webhooks.tasks import purge as purge_deliveries

    async def _run() -> int:
        runtime = Runtime.build(get_settings())
        try:
            return await purge_deliveries(runtime, retention_days=days)
        finally:
            await runtime.close()

    typer.echo(f"{asyncio.run(_run())} deliveries deleted")

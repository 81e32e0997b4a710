"""`b1bridge ip check` and `b1bridge ip webhooks ensure`: operator tools for the IP connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from app.cli import ip_cli
from app.config import get_settings
from app.integrations.inventory_planner.client import CONNECTION_SAVE, InventoryPlannerClient
from app.integrations.inventory_planner.errors import IPError

webhooks_cli = typer.Typer(no_args_is_help=True, help="Inventory Planner webhook subscriptions.")
ip_cli.add_typer(webhooks_cli, name="webhooks")
console = Console()
# What the receiver needs to re-fetch and dedupe (reference §10.3: the payload is only a hint).
DEFAULT_FIELDS = "id,reference,status,last_modified"


def _client() -> InventoryPlannerClient:
    return InventoryPlannerClient.from_settings(get_settings().ip)


async def _check() -> int:
    settings = get_settings().ip
    async with _client() as client:
        first = None
        fields = ["id", "reference", "status", "last_modified"]
        async for page in client.iter_purchase_order_pages(type=None, limit=5, fields=fields):
            first = page
            break
    console.print(f"[green]auth ok[/green]: account {settings.account} at {settings.base_url}")
    table = Table("id", "reference", "status", "last_modified", title="purchase orders (first page)")
    for po in first.good if first else []:
        table.add_row(po.id, po.reference or "", po.status or "", str(po.last_modified or ""))
    console.print(table)
    for error in first.errors if first else []:
        console.print(f"[yellow]unreadable record[/yellow] {error.record_id or error.index}: {error.message}")
    return 0


async def _ensure(url: str, topic: str, fields: str) -> int:
    async with _client() as client:
        result = await client.ensure_webhook(url, topic=topic, fields=fields)
    hook = result.webhook
    console.print(f"webhook [bold]{result.action}[/bold]: id {hook.id}, topic {hook.topic or topic}, "
                  f"fields {hook.fields or '-'}")
    for duplicate in result.removed_duplicates:
        console.print(f"removed duplicate subscription {duplicate}")
    return 0


def _run(coro_fn: Callable[[], Coroutine[Any, Any, int]]) -> None:
    try:
        code = asyncio.run(coro_fn())
    except IPError as exc:
        console.print(f"[red]{type(exc).__name__}[/red]: {exc.detail}")
        code = 1
    raise typer.Exit(code)


@ip_cli.command("check")
def check() -> None:
    """Authenticate against Inventory Planner and read one page of purchase orders."""
    _run(_check)


@webhooks_cli.command("ensure")
def ensure(
    url: str = typer.Option(..., "--url", help="Our receiver URL, including its secret token."),
    topic: str = typer.Option(CONNECTION_SAVE, "--topic"),
    fields: str = typer.Option(DEFAULT_FIELDS, "--fields", help="Comma-separated PO fields in the payload."),
) -> None:
    """Create or update the one subscription pointing at our host/path (idempotent)."""
    _run(lambda: _ensure(url, topic, fields))

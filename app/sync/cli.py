"""`b1bridge sync stock [--full] [--dry-run]` and `b1bridge reconcile [--json]`.

`sync_cli` is the `sync` group; the orders engineer adds `sync orders` to it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli import cli
from app.config import get_settings
from app.models.sync import RunTrigger
from app.runtime import Runtime

console = Console()
sync_cli = typer.Typer(no_args_is_help=True, help="Run a sync in the foreground.")
cli.add_typer(sync_cli, name="sync")


@sync_cli.command("stock")
def sync_stock(
    full: bool = typer.Option(False, "--full", help="Compare everything; find what disappeared."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be sent; change nothing."),
) -> None:
    """One stock sync (SAP -> snapshot -> Advanced CSV / Starter), with a progress bar."""
    outcome = asyncio.run(_sync(full, dry_run))
    if outcome is None:
        console.print("[yellow]another stock run is active; nothing done[/yellow]")
        raise typer.Exit(1)
    _summary(outcome, dry_run)
    if not outcome.ok:
        console.print(f"[red]sync failed:[/red] {outcome.error}")
        raise typer.Exit(1)


async def _sync(full: bool, dry_run: bool) -> Any:
    from app.sync import service

    runtime = Runtime.build(get_settings())
    columns = (TextColumn("[bold]items"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("items", total=None)
            return await service.run_stock(
                runtime,
                full=full,
                trigger=RunTrigger.cli,
                dry_run=dry_run,
                progress=lambda n: bar.advance(task, n),
                total=lambda t: bar.update(task, total=t),
            )
    finally:
        await runtime.close()


def _summary(outcome: Any, dry_run: bool) -> None:
    table = Table("read", "changed", "sent", "skipped by rule", "status", title="stock sync")
    c = outcome.counts
    status = "dry run" if dry_run else (outcome.run.status if outcome.run else "-")
    table.add_row(str(c.read), str(c.changed), str(c.sent), str(c.skipped), str(status))
    console.print(table)
    files = Table("entity", "rows", title="would be sent" if dry_run else "files queued")
    for entity, count in outcome.sinks.counts.items():
        files.add_row(entity, str(count))
    console.print(files)
    if dry_run:
        for entity, rows in outcome.sinks.samples.items():
            console.print(f"[bold]{entity}[/bold] (first {len(rows)})")
            for row in rows:
                console.print({k: str(v) for k, v in row.items()})


@cli.command("reconcile")
def reconcile_cmd(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Fetch IP's stock, store it, and print the drift and mismatch report."""
    report = asyncio.run(_reconcile())
    if as_json:
        print(json.dumps(report, default=str, indent=2))
        return
    console.print(
        f"IP variants read: {report['summary']['variants']}, "
        f"SKU mismatches: {report['summary']['sku_mismatch']}"
    )
    table = Table(
        "sku",
        "ip warehouse",
        "SAP available",
        "IP in stock",
        "difference",
        "value at cost",
        title=f"drift (total {report['drift']['total_value_at_cost']})",
    )
    for d in report["drift"]["items"]:
        table.add_row(
            d["sku"],
            d["ip_warehouse_id"],
            str(d["sap_available"]),
            str(d["ip_in_stock"]),
            str(d["difference"]),
            str(d["value_at_cost"]),
        )
    console.print(table)


async def _reconcile() -> dict[str, Any]:
    from app.db.session import session_scope
    from app.stock import service as stock_service
    from app.sync import reconcile

    runtime = Runtime.build(get_settings())
    try:
        summary = await reconcile.run(runtime)
        async with session_scope(runtime.sessionmaker) as session:
            drift = await stock_service.drift_report(session, runtime.settings, limit=1000)
        return {"summary": summary, "drift": drift.model_dump(mode="json")}
    finally:
        await runtime.close()


@sync_cli.command("receipts")
def sync_receipts() -> None:
    """Send SAP goods receipts (GRPOs) to IP as received quantities on the POs they came from."""
    from app.sync import receipts

    async def _run() -> Any:
        runtime = Runtime.build(get_settings())
        try:
            return await receipts.run(runtime, trigger=RunTrigger.cli)
        finally:
            await runtime.close()

    run = asyncio.run(_run())
    if run is None:
        console.print("[yellow]another receipts run is active; nothing done[/yellow]")
        raise typer.Exit(1)
    console.print(f"receipts run {run.id}: {run.status} "
                  f"(GRPO lines read {run.read_count}, IP lines sent {run.sent_count})")
    if run.errors:
        console.print(f"[red]errors:[/red] {run.errors}")
    if str(run.status) != "succeeded":
        raise typer.Exit(1)

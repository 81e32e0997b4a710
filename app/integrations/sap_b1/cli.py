"""`b1bridge sap setup` and `b1bridge sap check`: operator tools for the SAP connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any

import typer

from app.cli import sap_cli
from app.config import get_settings
from app.integrations.sap_b1.client import SapB1Client
from app.integrations.sap_b1.errors import SapError
from app.integrations.sap_b1.periods import load_periods
from app.integrations.sap_b1.setup import RESTART_NOTICE, ensure_ext_ref


def _client() -> SapB1Client:
    return SapB1Client(get_settings().sap)


async def _setup() -> int:
    async with _client() as client:
        result = await ensure_ext_ref(client)
    for table in result.present:
        typer.echo(f"  {result.udf} on {table}: present")
    for table in result.created:
        typer.echo(f"  {result.udf} on {table}: CREATED")
    for table, message in result.failed.items():
        typer.echo(f"  {result.udf} on {table}: FAILED ({message})", err=True)
    if result.restart_required:
        typer.echo(RESTART_NOTICE)
    return 1 if result.failed else 0


async def _check() -> int:
    settings = get_settings().sap
    async with _client() as client:
        await client.login()
        session = client.sessions.session
        typer.echo(f"login ok: {settings.company_db} at {client.root} ({client.dialect}), "
                   f"session timeout {session.timeout_minutes if session else '?'} min")
        items = await client.find("Items", None, select=["ItemCode", "ItemName"], top=1)
        typer.echo(f"items readable: {items[0]['ItemCode'] if items else '(no items)'}")
        periods = await load_periods(client)
        today = date.today()
        current = periods.period_for(today)
        typer.echo(f"posting periods: {len(periods.periods)}; today in "
                   f"{current.period_code if current else 'no period'} "
                   f"({current.status.value if current else '-'}); "
                   f"first open date {periods.first_open_date_on_or_after(today)}")
    return 0


def _run(coro_fn: Callable[[], Coroutine[Any, Any, int]]) -> None:
    try:
        code = asyncio.run(coro_fn())
    except SapError as exc:
        typer.echo(f"SAP error: {exc}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(code)


@sap_cli.command("setup")
def setup_command() -> None:
    """Create the external-reference UDF on every document table b1bridge writes."""
    _run(_setup)


@sap_cli.command("check")
def check_command() -> None:
    """Log in, read one item and the posting periods: is the SAP connection usable?"""
    _run(_check)

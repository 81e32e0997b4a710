"""The `b1bridge` command.

Foundation commands live here; domain commands live next to their code (`app/<domain>/cli.py`)
and attach themselves to the groups below when `_register()` imports them.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from app.config import get_settings
from app.errors import ConfigurationError
from app.models.api_key import Scope

console = Console()
cli = typer.Typer(
    no_args_is_help=True, add_completion=False, help="b1bridge: SAP Business One <-> Inventory Planner"
)
emulator_cli = typer.Typer(
    no_args_is_help=True, help="Run the bundled SAP B1 and Inventory Planner emulators."
)
sap_cli = typer.Typer(no_args_is_help=True, help="SAP B1 Service Layer tools.")
ip_cli = typer.Typer(no_args_is_help=True, help="Inventory Planner tools.")
apikey_cli = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")
cli.add_typer(emulator_cli, name="emulator")
cli.add_typer(sap_cli, name="sap")
cli.add_typer(ip_cli, name="ip")
cli.add_typer(apikey_cli, name="apikey")

COMMAND_MODULES = (
    "app.emulators.sap_b1.cli",
    "app.emulators.inventory_planner.cli",
    "app.integrations.sap_b1.cli",
    "app.integrations.inventory_planner.cli",
    "app.sync.cli",
    "app.recommendations.cli",
    "app.webhooks.cli",
)


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    reload: bool = typer.Option(False, help="Restart on code changes (development)."),
) -> None:
    """Run the API (Swagger UI at /docs)."""
    import uvicorn

    _check_config()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        log_level="warning",
    )


@cli.command()
def worker(burst: bool = typer.Option(False, help="Run the queued jobs, then exit.")) -> None:
    """Run an arq worker: queued jobs, schedules and the outbox relay."""

    from app.kit import loop
    from app.worker.settings import Worker, worker_settings

    _check_config()
    loop.install()  # before the Worker: it takes its event loop when it is built
    Worker(**worker_settings(get_settings(), burst=burst)).run()


@cli.command()
def migrate(revision: str = typer.Argument("head")) -> None:
    """Upgrade the database schema (to `head` unless told otherwise)."""
    from app.db import migrate as migrations

    settings = get_settings()
    migrations.upgrade(settings, revision)
    console.print(f"[green]database at {revision}[/green] ({_safe_url(settings.resolved_database_url)})")


@apikey_cli.command("create")
def apikey_create(
    name: str = typer.Option(..., help="Who or what uses the key."),
    scope: Scope = typer.Option(Scope.read, help="read ⊂ write ⊂ admin"),
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from app.auth import service

    async def create() -> str:
        async with _session() as session:
            _, plain = await service.create_key(session, name=name, scope=scope)
            return plain

    plain = asyncio.run(create())
    console.print(f"API key for [bold]{name}[/bold] ({scope.value}); it is shown only this once:")
    print(plain)


@apikey_cli.command("list")
def apikey_list() -> None:
    """List API keys (names, scopes, prefixes; never the keys)."""
    from app.auth import repository

    async def rows() -> list[tuple[str, ...]]:
        async with _session() as session:
            return [
                (
                    k.name,
                    k.scope,
                    k.prefix + "…",
                    str(k.created_at),
                    str(k.last_used_at or "-"),
                    "revoked" if k.revoked_at else "active",
                )
                for k in await repository.list_all(session)
            ]

    table = Table("name", "scope", "prefix", "created", "last used", "state")
    for row in asyncio.run(rows()):
        table.add_row(*row)
    console.print(table)


@apikey_cli.command("revoke")
def apikey_revoke(name: str) -> None:
    """Revoke every active key with this name."""
    from app.auth import service

    async def revoke() -> int:
        async with _session() as session:
            return await service.revoke_by_name(session, name)

    count = asyncio.run(revoke())
    console.print(f"revoked {count} key(s) named {name}")
    if not count:
        raise typer.Exit(1)


@cli.command()
def openapi(
    output: Path = typer.Option(Path("openapi/openapi.json")),
    check: bool = typer.Option(False, help="Exit 1 if the file differs from the app's schema."),
) -> None:
    """Write (or check) the OpenAPI document generated from the app."""
    from app.openapi_doc import render

    text = render()
    if check:
        if not output.exists() or output.read_text() != text:
            console.print(f"[red]{output} is out of date: run `b1bridge openapi`[/red]")
            raise typer.Exit(1)
        console.print(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    console.print(f"wrote {output}")


@cli.command()
def demo(
    data_dir: Path = typer.Option(Path(".b1bridge/demo"), help="Where the demo keeps its state."),
    port: int = typer.Option(8000, help="API port."),
    items: int = typer.Option(200, help="Items the SAP emulator seeds."),
    duration: float = typer.Option(0, help="Stop after this many seconds and print a summary (0 = run on)."),
    sap_port: int = typer.Option(50000, help="SAP B1 Service Layer emulator port."),
    ip_port: int = typer.Option(50100, help="Inventory Planner emulator port."),
    sftp_port: int = typer.Option(50122, help="Inventory Planner emulator SFTP port."),
) -> None:
    """Start everything on the embedded defaults: emulators, API, worker and schedules."""
    from app.demo import Ports, run

    run(
        data_dir=data_dir,
        ports=Ports(api=port, sap=sap_port, ip=ip_port, sftp=sftp_port),
        items=items,
        duration=duration,
    )


def _check_config() -> None:
    settings = get_settings()
    if settings.is_production and (problems := settings.production_problems()):
        console.print("[red]Refusing to start in production:[/red]\n- " + "\n- ".join(problems))
        raise typer.Exit(2)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _session():  # type: ignore[no-untyped-def]
    """A committing session on the configured database, for one-shot commands."""
    from contextlib import asynccontextmanager

    from app.db.engine import create_engine, sessionmaker
    from app.db.session import session_scope

    @asynccontextmanager
    async def scope():  # type: ignore[no-untyped-def]
        engine = create_engine(get_settings())
        try:
            async with session_scope(sessionmaker(engine)) as session:
                yield session
        finally:
            await engine.dispose()

    return scope()


def _register() -> None:
    import importlib

    for module in COMMAND_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not exc.name or not (module == exc.name or module.startswith(exc.name + ".")):
                raise


def main() -> None:
    _register()
    try:
        cli()
    except ConfigurationError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        sys.exit(2)


__all__ = ["cli", "emulator_cli", "ip_cli", "main", "sap_cli"]

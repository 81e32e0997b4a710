"""`b1bridge emulator ip`: serve the Inventory Planner emulator (REST on --port, SFTP on --sftp-port)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from app.cli import emulator_cli
from app.emulators.inventory_planner.config import FaultConfig, IPEmulatorConfig


def _load_faults(path: Path | None) -> FaultConfig:
    if path is None:
        return FaultConfig()
    return FaultConfig.model_validate(json.loads(path.read_text()))


@emulator_cli.command("ip")
def run_ip_emulator(
    host: str = typer.Option("127.0.0.1", help="HTTP bind address."),
    port: int = typer.Option(50100, help="HTTP port of the REST API and /_emulator."),
    sftp_port: int = typer.Option(50122, help="SFTP port (always bound to 127.0.0.1)."),
    sftp_root: Path | None = typer.Option(None, help="SFTP root directory (default: a temp dir)."),
    faults: Path | None = typer.Option(None, help="JSON file of fault settings (FaultConfig fields)."),
    known_hosts: Path | None = typer.Option(None, help="Write the SFTP host key's known_hosts line here."),
) -> None:
    """Run the Inventory Planner emulator until interrupted."""
    import uvicorn

    from app.emulators.inventory_planner.app import create_app

    config = IPEmulatorConfig(
        sftp_port=sftp_port,
        sftp_root=sftp_root,
        faults=_load_faults(faults),
        sftp_known_hosts_path=known_hosts,
    )
    app = create_app(config)
    typer.echo(
        f"Inventory Planner emulator on http://{host}:{port}, SFTP 127.0.0.1:{sftp_port}, "
        f"root {app.state.ip.sftp_root}"
    )
    uvicorn.run(app, host=host, port=port, log_level="info")

"""`b1bridge emulator sap`: run the Service Layer emulator under uvicorn."""

from __future__ import annotations

import typer

from app.cli import emulator_cli


@emulator_cli.command("sap")
def run_sap(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(50000, help="Port (a real SL load balancer listens on 50000)."),
    seed: int = typer.Option(1, help="Seed of the generated company."),
    items: int = typer.Option(200, help="Number of items."),
    warehouses: int = typer.Option(5, help="Number of warehouses."),
    faults: str | None = typer.Option(None, help="JSON/YAML fault file; B1EMU_FAULTS (JSON) overrides."),
    session_timeout: float = typer.Option(1800.0, help="Sliding session idle timeout, seconds."),
) -> None:
    """Serve a seeded SAP B1 Service Layer at /b1s/v1 and /b1s/v2."""
    import uvicorn

    from app.emulators.sap_b1 import EmulatorConfig, create_app, load_faults

    config = EmulatorConfig(
        seed=seed,
        items=items,
        warehouses=warehouses,
        faults=load_faults(faults),
        session_timeout_s=session_timeout,
    )
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")

"""The `b1bridge` command.

Sub-commands live next to the code they drive (`app/<domain>/cli.py`) and are attached here.
"""

from __future__ import annotations

import typer

cli = typer.Typer(no_args_is_help=True, add_completion=False, help="b1bridge: SAP Business One <-> Inventory Planner")
emulator_cli = typer.Typer(no_args_is_help=True, help="Run the bundled SAP B1 and Inventory Planner emulators.")
sap_cli = typer.Typer(no_args_is_help=True, help="SAP B1 Service Layer tools.")
ip_cli = typer.Typer(no_args_is_help=True, help="Inventory Planner tools.")
cli.add_typer(emulator_cli, name="emulator")
cli.add_typer(sap_cli, name="sap")
cli.add_typer(ip_cli, name="ip")


def _register() -> None:
    """Import the modules that attach commands (kept lazy-free: each module is cheap to import)."""
    import importlib

    for module in (
        "app.emulators.sap_b1.cli",
        "app.emulators.inventory_planner.cli",
        "app.integrations.sap_b1.cli",
        "app.integrations.inventory_planner.cli",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not exc.name or not (module == exc.name or module.startswith(exc.name + ".")):
                raise


def main() -> None:
    _register()
    cli()

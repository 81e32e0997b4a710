"""Imports every table module under app/models so SQLModel.metadata is complete."""

from __future__ import annotations

import importlib
import pkgutil


def import_all() -> None:
    import app.models as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in {"base", "registry"}:
            importlib.import_module(f"app.models.{info.name}")

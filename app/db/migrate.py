"""Run alembic programmatically (used by `b1bridge migrate`, the demo and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from alembic import command
from app.config import Settings
from app.errors import ConfigurationError

# A source checkout has alembic/ next to app/; an installed package (the Docker image) runs from
# the directory holding alembic.ini.
CANDIDATES = (Path(__file__).resolve().parents[2], Path.cwd())


def _root() -> Path:
    for candidate in CANDIDATES:
        if (candidate / "alembic.ini").is_file():
            return candidate
    raise ConfigurationError("alembic.ini not found: run b1bridge from the directory that holds it")


def alembic_config(settings: Settings) -> Config:
    root = _root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    config.attributes["url"] = settings.resolved_database_url
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    if settings.resolved_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str = "base") -> None:
    command.downgrade(alembic_config(settings), revision)

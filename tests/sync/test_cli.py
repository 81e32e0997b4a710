"""`b1bridge sync receipts` runs one receipts pass in the foreground and records it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import _register, cli
from app.config import Settings, get_settings
from app.db.session import session_scope
from app.emulators.sap_b1.app import create_app as create_sap_emulator
from app.emulators.sap_b1.config import EmulatorConfig
from app.models.sync import SyncRun
from app.runtime import Runtime
from tests.conftest import reset_state
from tests.support.server import serve


@pytest.fixture
def sap_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _register()
    with serve(create_sap_emulator(EmulatorConfig(items=5, warehouses=2, login_delay_ms=0))) as url:
        monkeypatch.setenv("SAPB1_BASE_URL", f"{url}/b1s/v2")
        monkeypatch.setenv("B1BRIDGE_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("B1BRIDGE_REDIS_NAMESPACE", settings.redis_namespace)
        if settings.database_url:
            monkeypatch.setenv("DATABASE_URL", settings.database_url)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


async def _runs_and_reset(settings: Settings) -> list[tuple[str, str]]:
    runtime = Runtime.build(settings)
    try:
        async with session_scope(runtime.sessionmaker) as session:
            runs = (await session.exec(select(SyncRun).where(SyncRun.stream == "receipts"))).all()
            found = [(str(r.trigger), str(r.status)) for r in runs]
        await reset_state(runtime)
        return found
    finally:
        await runtime.close()


def test_sync_receipts_runs_once_and_records_the_run(sap_env: None, settings: Settings) -> None:
    # A plain (sync) test: the command runs its own event loop, as it does in a shell.
    result = CliRunner().invoke(cli, ["sync", "receipts"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    assert asyncio.run(_runs_and_reset(settings)) == [("cli", "succeeded")]

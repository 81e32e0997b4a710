"""`b1bridge sap setup` and `b1bridge sap check` against the emulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.emulators.sap_b1.app import create_app
from app.emulators.sap_b1.config import EmulatorConfig
from app.integrations.sap_b1 import cli as sap_commands  # noqa: F401  (attaches the commands)
from tests.support.server import serve


@pytest.fixture
def sap_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with serve(create_app(EmulatorConfig(items=5, warehouses=2, login_delay_ms=0))) as url:
        monkeypatch.setenv("SAPB1_BASE_URL", f"{url}/b1s/v2")
        monkeypatch.setenv("SAPB1_PASSWORD", "demo-password")
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


def test_setup_creates_the_udf_and_says_a_restart_is_needed(sap_env: None) -> None:
    first = CliRunner().invoke(cli, ["sap", "setup"])
    assert first.exit_code == 0, first.output
    assert "CREATED" in first.output and "must be restarted" in first.output
    second = CliRunner().invoke(cli, ["sap", "setup"])
    assert second.exit_code == 0 and "CREATED" not in second.output


def test_check_reports_login_items_and_periods(sap_env: None) -> None:
    result = CliRunner().invoke(cli, ["sap", "check"])
    assert result.exit_code == 0, result.output
    assert "login ok" in result.output and "posting periods" in result.output


def test_check_with_a_wrong_password_fails_plainly(sap_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAPB1_PASSWORD", "wrong")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["sap", "check"])
    assert result.exit_code == 2 and "SapAuthError" in result.output and "wrong" not in result.output

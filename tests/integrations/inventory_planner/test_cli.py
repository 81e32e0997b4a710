"""`b1bridge ip check` and `b1bridge ip webhooks ensure` against the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

import app.integrations.inventory_planner.cli  # noqa: F401  (attaches the commands)
from app.cli import cli
from app.config import get_settings
from tests.integrations.inventory_planner.conftest import Emulator


@pytest.fixture
def env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("IP_BASE_URL", emulator.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_check_prints_auth_and_first_page(env: None) -> None:
    result = CliRunner().invoke(cli, ["ip", "check"])
    assert result.exit_code == 0, result.output
    assert "auth ok" in result.output and "po_" in result.output


def test_check_with_a_wrong_key_fails_cleanly(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IP_API_KEY", "wrong")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["ip", "check"])
    assert result.exit_code == 1 and "IPAuthError" in result.output
    assert "wrong" not in result.output


def test_webhooks_ensure_is_idempotent(env: None) -> None:
    url = "http://127.0.0.1:9/webhooks/ip/secret-token-value"
    first = CliRunner().invoke(cli, ["ip", "webhooks", "ensure", "--url", url])
    second = CliRunner().invoke(cli, ["ip", "webhooks", "ensure", "--url", url])
    assert "created" in first.output and "unchanged" in second.output
    assert "secret-token-value" not in first.output + second.output

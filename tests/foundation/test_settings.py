"""Production refuses demo secrets and unverified TLS/host keys; URLs and TLS options are read right."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from app.cli import cli
from app.config import InventoryPlannerSettings, SapB1Settings, Settings, get_settings, normalise_database_url
from app.errors import ConfigurationError
from app.main import create_app


def _production(tmp_path: Path, **ip: object) -> Settings:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("[sftp.example.com]:22 ssh-ed25519 AAAA\n")
    return Settings(
        B1BRIDGE_ENV="production",
        B1BRIDGE_DATA_DIR=tmp_path,
        B1BRIDGE_SECRET_KEY=SecretStr("s" * 40),  # type: ignore[call-arg]
        sap=SapB1Settings(password=SecretStr("real-password"), verify_tls="true"),
        ip=InventoryPlannerSettings(
            api_key=SecretStr("real-key"),
            webhook_token=SecretStr("t" * 32),
            sftp_known_hosts=str(known_hosts),
            **ip,
        ),  # type: ignore[arg-type]
    )


def test_production_refuses_to_start_with_demo_secrets(tmp_path: Path) -> None:
    settings = Settings(B1BRIDGE_ENV="production", B1BRIDGE_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError) as refused:
        create_app(settings)
    for name in (
        "B1BRIDGE_SECRET_KEY",
        "SAPB1_PASSWORD",
        "IP_API_KEY",
        "IP_WEBHOOK_TOKEN",
        "IP_SFTP_KNOWN_HOSTS",
    ):
        assert name in refused.value.detail


def test_production_refuses_unverified_tls_toward_sap(tmp_path: Path) -> None:
    settings = _production(tmp_path)
    settings.sap = SapB1Settings(password=SecretStr("real-password"), verify_tls="false")
    assert settings.production_problems() == [
        "SAPB1_VERIFY_TLS=false: TLS toward SAP must be verified in production"
    ]


def test_a_complete_production_configuration_starts(tmp_path: Path) -> None:
    assert _production(tmp_path).production_problems() == []
    create_app(_production(tmp_path))


def test_serve_exits_2_and_says_why_in_production_with_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("B1BRIDGE_ENV", "production")
    monkeypatch.setenv("B1BRIDGE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "Refusing to start in production" in result.output and "SAPB1_PASSWORD" in result.output


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("0", False), ("OFF", False), ("yes", True)])
def test_verify_tls_accepts_booleans(value: str, expected: bool) -> None:
    assert SapB1Settings(verify_tls=value).tls_verify is expected


def test_verify_tls_accepts_a_ca_bundle_and_refuses_a_missing_file(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert SapB1Settings(verify_tls=str(bundle)).tls_verify == str(bundle)
    with pytest.raises(ValidationError, match="CA bundle"):
        SapB1Settings(verify_tls=str(tmp_path / "missing.pem"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_urls_people_paste_get_the_async_driver(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected

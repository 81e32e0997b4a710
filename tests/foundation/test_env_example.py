from __future__ import annotations

import re
from pathlib import Path

from app.envdoc import variables

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting() -> None:
    documented = set(re.findall(r"^# ([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert documented == {name for _, name, _ in variables()}, (
        "regenerate: python -m app.envdoc > .env.example"
    )


def test_readme_documents_the_issue_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "B1BRIDGE_DATA_DIR",
        "B1BRIDGE_ENV",
        "SAPB1_BASE_URL",
        "SAPB1_COMPANY_DB",
        "SAPB1_USERNAME",
        "SAPB1_PASSWORD",
        "SAPB1_VERIFY_TLS",
        "SAPB1_MAX_CONCURRENCY",
        "IP_BASE_URL",
        "IP_API_KEY",
        "IP_ACCOUNT",
        "IP_WEBHOOK_TOKEN",
        "IP_SFTP_HOST",
        "IP_SFTP_PORT",
        "IP_SFTP_USERNAME",
        "IP_SFTP_PASSWORD",
        "IP_SFTP_ROOT",
    ):
        assert name in readme, name

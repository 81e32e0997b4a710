"""The Inventory Planner emulator served over real HTTP (and SFTP) on loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.emulators.inventory_planner.app import create_app
from app.emulators.inventory_planner.config import IPEmulatorConfig
from app.integrations.inventory_planner.client import InventoryPlannerClient
from app.integrations.inventory_planner.sftp import SftpConfig
from tests.support.server import serve


@dataclass
class Emulator:
    url: str
    root: Path
    sftp: SftpConfig
    config: IPEmulatorConfig

    def control(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/_emulator{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def sync(self) -> dict[str, Any]:
        return self.control("POST", "/sync")  # type: ignore[no-any-return]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    known_hosts = tmp_path / "known_hosts"
    config = IPEmulatorConfig(sftp_port=0, sftp_root=tmp_path / "drop", sftp_known_hosts_path=known_hosts)
    with serve(create_app(config)) as url:
        info = httpx.get(f"{url}/_emulator/sftp", timeout=10).json()
        sftp = SftpConfig(host="127.0.0.1", port=info["port"], username=config.sftp_username,
                          password=config.sftp_password, known_hosts=str(known_hosts), root="/",
                          attempts=2, backoff_seconds=0.01)
        yield Emulator(url, Path(info["root"]), sftp, config)


@pytest.fixture
async def ip(emulator: Emulator) -> AsyncIterator[InventoryPlannerClient]:
    async with InventoryPlannerClient(base_url=emulator.url, api_key=emulator.config.api_key,
                                      account=emulator.config.account) as client:
        yield client

"""End-to-end fixtures: the SAP emulator and the IP emulator (REST + SFTP) on loopback ports, a
Runtime pointed at both over the test database and Redis, and mapping builders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.config import InventoryPlannerSettings, SapB1Settings, Settings, SyncSettings
from app.db.session import session_scope
from app.emulators.inventory_planner.app import create_app as create_ip
from app.emulators.inventory_planner.config import IPEmulatorConfig
from app.emulators.sap_b1 import EmulatorConfig, FaultConfig
from app.emulators.sap_b1 import create_app as create_sap
from app.integrations.inventory_planner.sftp import SftpConfig
from app.models.mapping import ItemGroupMapping, WarehouseMapping, WarehouseMode
from app.runtime import Runtime
from tests.support.server import serve


@dataclass
class World:
    sap_url: str
    sap_store: Any
    ip_url: str
    ip_store: Any
    sftp: SftpConfig
    runtime: Runtime

    def sap_control(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx.request(method, f"{self.sap_url}/_emulator{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def ip_sync(self) -> Any:
        response = httpx.post(f"{self.ip_url}/_emulator/sync", timeout=30)
        response.raise_for_status()
        return response.json()


def world_settings(
    base: Settings, sap_url: str, ip_url: str, sftp_port: int, feed_dir: Path, **sync: Any
) -> Settings:
    sap = SapB1Settings(base_url=f"{sap_url}/b1s/v2", page_size=100, read_retry_budget=2, timeout_seconds=5)
    ip = InventoryPlannerSettings(
        base_url=ip_url,
        sftp_host="127.0.0.1",
        sftp_port=sftp_port,
        sftp_password=SecretStr("demo-sftp-password"),
        feed_mode=sync.pop("feed_mode", "both"),
    )
    return base.model_copy(
        update={"sap": sap, "ip": ip, "sync": SyncSettings(feed_dir=feed_dir, page_size=25, **sync)}
    )


@pytest.fixture
def sap_config() -> EmulatorConfig:
    return EmulatorConfig(items=60, warehouses=6, seed=7)


@pytest.fixture
async def world(
    settings: Settings, clean: None, tmp_path: Path, sap_config: EmulatorConfig
) -> AsyncIterator[World]:
    ip_config = IPEmulatorConfig(
        sftp_port=0,
        sftp_root=tmp_path / "drop",
        sftp_known_hosts_path=tmp_path / "known_hosts",
        seed_purchase_orders=False,
    )
    sap_app, ip_app = create_sap(sap_config), create_ip(ip_config)
    with serve(sap_app) as sap_url, serve(ip_app) as ip_url:
        info = httpx.get(f"{ip_url}/_emulator/sftp", timeout=10).json()  # noqa: ASYNC210
        sftp = SftpConfig(
            host="127.0.0.1",
            port=info["port"],
            username=ip_config.sftp_username,
            password=ip_config.sftp_password,
            known_hosts=str(tmp_path / "known_hosts"),
            attempts=1,
            backoff_seconds=0.01,
        )
        runtime = Runtime.build(world_settings(settings, sap_url, ip_url, info["port"], tmp_path / "feeds"))
        try:
            yield World(sap_url, sap_app.state.sap, ip_url, ip_app.state.ip, sftp, runtime)
        finally:
            await runtime.close()


async def add_mappings(
    runtime: Runtime, *, warehouses: dict[str, dict[str, Any]], groups: dict[int, bool] | None = None
) -> None:
    async with session_scope(runtime.sessionmaker) as session:
        for code, values in warehouses.items():
            values = {"ip_warehouse_id": code, "mode": WarehouseMode.direct, **values}
            session.add(WarehouseMapping(sap_warehouse_code=code, **values))
        for number, include in (groups or {}).items():
            session.add(
                ItemGroupMapping(
                    sap_group_code=number, ip_category=f"cat-{number}", include_in_planning=include
                )
            )


def faults(**knobs: Any) -> FaultConfig:
    return FaultConfig(**knobs)


@pytest.fixture
def no_network_sleep() -> Iterator[None]:
    yield

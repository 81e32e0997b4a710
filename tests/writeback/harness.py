"""End-to-end harness: both emulators and b1bridge served over real HTTP, a real arq worker in burst
mode, the same migrated database as the rest of the suite."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from sqlalchemy import delete
from sqlmodel import SQLModel, col, select

from app.config import InventoryPlannerSettings, SapB1Settings, Settings, WritebackSettings
from app.db import migrate
from app.db.session import session_scope
from app.emulators.inventory_planner.app import create_app as create_ip
from app.emulators.inventory_planner.config import IPEmulatorConfig
from app.emulators.sap_b1.app import create_app as create_sap
from app.emulators.sap_b1.config import EmulatorConfig, FaultConfig
from app.main import create_app
from app.models.mapping import VendorMapping, WarehouseMapping
from app.models.outbox import OutboxMessage
from app.outbox import relay
from app.runtime import Runtime
from app.worker import settings as worker_module
from app.worker.settings import Worker, worker_settings
from tests.conftest import make_settings
from tests.support.server import serve

TOKEN = "test-webhook-token-0123456789abcdef"


def buyable(sap_store: Any, count: int) -> list[str]:
    """The first `count` item codes of the emulator's company that a purchase order may carry."""
    good = [
        r["ItemCode"]
        for r in sap_store.tables["Items"].rows.values()
        if r["Valid"] == "tYES"
        and r["Frozen"] == "tNO"
        and r.get("ProcurementMethod") == "bom_Buy"
        and r.get("PurchaseItem") == "tYES"
    ]
    return sorted(good)[:count]


@dataclass
class Stack:
    settings: Settings
    runtime: Runtime
    sap_url: str
    ip_url: str
    api_url: str
    sap_store: Any
    ip_store: Any

    async def drain(self, rounds: int = 200) -> None:
        """Relay the outbox and run a burst worker until nothing is pending or queued."""
        for _ in range(rounds):
            await relay.relay_once(
                self.runtime.sessionmaker, self.runtime.redis, queue_name=self.runtime.queue_name, batch=1000
            )
            # No schedules in tests: crons would interleave unrelated work with the scenario.
            with mock.patch.object(worker_module, "cron_jobs", lambda settings: []):
                worker = Worker(**worker_settings(self.settings, burst=True, poll_delay=0.02))
            try:
                await worker.main()
            finally:
                await worker.close()
            if not await self.pending():
                return
        raise AssertionError("the queue did not drain")

    async def pending(self) -> int:
        async with session_scope(self.runtime.sessionmaker) as session:
            rows = (
                await session.exec(select(OutboxMessage).where(col(OutboxMessage.enqueued_at).is_(None)))
            ).all()
        return len(rows) + int(await self.runtime.redis.zcard(self.runtime.queue_name))

    def buyable_items(self, count: int) -> list[str]:
        return buyable(self.sap_store, count)

    def sap_stats(self) -> dict[str, Any]:
        return httpx.get(self.sap_url + "/_emulator/stats").json()  # type: ignore[no-any-return]

    def set_sap_faults(self, **knobs: Any) -> None:
        httpx.post(self.sap_url + "/_emulator/faults", json=knobs).raise_for_status()


def stack_settings(
    data_dir: Path, database_url: str | None, sap_url: str, ip_url: str, **writeback: Any
) -> Settings:
    return make_settings(
        data_dir,
        database_url,
        sap=SapB1Settings(base_url=sap_url + "/b1s/v2", max_concurrency=4, timeout_seconds=10),
        ip=InventoryPlannerSettings(base_url=ip_url, webhook_token=TOKEN),  # type: ignore[arg-type]
        writeback=WritebackSettings(
            **{"backoff_base_seconds": 0.05, "backoff_cap_seconds": 0.5, **writeback}
        ),
    )


async def seed_mappings(runtime: Runtime, vendors: dict[str, str], warehouses: dict[str, str]) -> None:
    async with session_scope(runtime.sessionmaker) as session:
        for ip_vendor, card in vendors.items():
            session.add(VendorMapping(ip_vendor=ip_vendor, sap_card_code=card))
        for ip_wh, sap_wh in warehouses.items():
            session.add(WarehouseMapping(sap_warehouse_code=sap_wh, ip_warehouse_id=ip_wh))


async def wipe(runtime: Runtime) -> None:
    async with session_scope(runtime.sessionmaker) as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await session.exec(delete(table))  # type: ignore[call-overload]


@contextlib.contextmanager
def emulators(sap_faults: FaultConfig | None = None, **sap: Any) -> Iterator[tuple[str, str, Any, Any]]:
    config = EmulatorConfig(seed_ext_ref_udf=True, faults=sap_faults or FaultConfig(), **sap)
    sap_app = create_sap(config)
    # IP knows a variant for every SAP item code, so any SAP item can be ordered.
    skus = [f"A{n:05d}" for n in range(1, config.items + 1)]
    ip_app = create_ip(IPEmulatorConfig(sftp_port=0, seed_purchase_orders=False, skus=skus))  # type: ignore[call-arg]
    with serve(sap_app) as sap_url, serve(ip_app) as ip_url:
        yield sap_url, ip_url, sap_app.state.sap, ip_app.state.ip


@contextlib.asynccontextmanager
async def stack(
    data_dir: Path,
    database_url: str | None,
    *,
    sap_faults: FaultConfig | None = None,
    sap: dict[str, Any] | None = None,
    **writeback: Any,
) -> AsyncIterator[Stack]:
    with emulators(sap_faults, **(sap or {})) as (sap_url, ip_url, sap_store, ip_store):
        settings = stack_settings(data_dir, database_url, sap_url, ip_url, **writeback)
        await asyncio.to_thread(migrate.upgrade, settings)  # alembic runs its own event loop
        api = create_app(settings)
        with serve(api) as api_url:
            runtime = Runtime.build(settings)
            await wipe(runtime)
            try:
                yield Stack(settings, runtime, sap_url, ip_url, api_url, sap_store, ip_store)
            finally:
                await wipe(runtime)
                await runtime.close()


def create_po(
    stack: Stack,
    *,
    skus: list[tuple[str, float]],
    vendor: str = "v10000",
    warehouse: str = "c123_csv.01",
    status: str = "open",
) -> str:
    body = {
        "vendor": vendor,
        "warehouse": warehouse,
        "status": status,
        "expected_date": "2031-07-01",
        "items": [{"sku": sku, "replenishment": qty, "cost_price": 2.5} for sku, qty in skus],
    }
    po: dict[str, Any] = stack.ip_store.create_purchase_order(body)
    return str(po["id"])


async def api_key(runtime: Runtime, scope: str = "write") -> dict[str, str]:
    from app.auth import service as auth_service
    from app.models.api_key import Scope

    async with session_scope(runtime.sessionmaker) as session:
        _, plain = await auth_service.create_key(session, name=f"e2e-{scope}", scope=Scope(scope))
    return {"Authorization": f"Bearer {plain}"}

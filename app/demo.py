"""`b1bridge demo`: both emulators, the API, a worker and the schedules, on the embedded defaults.

Everything runs in one process here for convenience (Ctrl-C stops it all); nothing in the product
assumes that — the same pieces run as separate `serve` / `worker` processes in production. The
emulated company is seeded with the bad data users meet in real life: an inactive item still live
in Inventory Planner, an unmapped warehouse, a non-nettable warehouse, a refused many-to-one
mapping, an unmapped vendor, an order line for an SKU SAP does not know, and a drifting SKU.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.panel import Panel

from app.config import InventoryPlannerSettings, SapB1Settings, Settings, SyncSettings
from app.db import migrate
from app.emulators.inventory_planner.app import create_app as create_ip_emulator
from app.emulators.inventory_planner.config import IPEmulatorConfig
from app.emulators.sap_b1.app import create_app as create_sap_emulator
from app.emulators.sap_b1.config import EmulatorConfig
from app.main import create_app

console = Console()


@dataclass(frozen=True)
class Ports:
    api: int = 8000
    sap: int = 50000  # the defaults of SAPB1_BASE_URL, IP_BASE_URL and IP_SFTP_PORT, so the CLI
    ip: int = 50100  # in another shell reaches the demo with only B1BRIDGE_DATA_DIR set
    sftp: int = 50122


CONNECTION = "c123_csv"
# SAP warehouses of the demo company (7): 01-04 regular, 05 non-nettable, 06 drop-ship, 07 inactive.
IP_WAREHOUSES = [("MAIN", "Main DC"), ("EAST", "East (01+02... aggregated)"), ("QUAR", "Quarantine")]


@dataclass
class Demo:
    settings: Settings
    ports: Ports
    sap: Any  # the SAP emulator's store
    ip: Any  # the IP emulator's store
    api: httpx.AsyncClient
    admin_key: str
    refused_mapping: str = ""


def run(*, data_dir: Path, ports: Ports, items: int, duration: float = 0) -> None:
    data_dir = data_dir.resolve()
    # The emulators keep their state in memory, so each demo starts from a clean data dir: what an
    # earlier run's database says was sent to IP is not in this run's Inventory Planner.
    if data_dir.exists():
        console.print(f"starting from a clean demo state: removing {data_dir}")
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    try:
        asyncio.run(_main(data_dir, ports, items, duration))
    except KeyboardInterrupt:
        console.print("demo stopped")


def _settings(data_dir: Path, ports: Ports) -> Settings:
    return Settings(
        B1BRIDGE_DATA_DIR=data_dir,
        DATABASE_URL=None,
        REDIS_URL=None,  # type: ignore[call-arg]
        sap=SapB1Settings(base_url=f"http://127.0.0.1:{ports.sap}/b1s/v2"),
        ip=InventoryPlannerSettings(
            base_url=f"http://127.0.0.1:{ports.ip}",
            sftp_port=ports.sftp,
            sftp_known_hosts=str(data_dir / "ip_known_hosts"),
        ),
        sync=SyncSettings(incremental_every_minutes=1, reconcile_every_minutes=5, detect_every_minutes=1),
    )


def _pick_ip_skus(sap_store: Any) -> list[str]:
    """IP knows the first live items plus one item that is inactive in SAP (INACTIVE_ITEM)."""
    items = list(sap_store.table("Items").rows.values())
    live = [
        i["ItemCode"]
        for i in items
        if i["Valid"] == "tYES"
        and i["Frozen"] == "tNO"
        and i["InventoryItem"] == "tYES"
        and i["PurchaseItem"] == "tYES"
    ][:18]
    inactive = [i["ItemCode"] for i in items if i["Valid"] == "tNO"][:1]
    return live + inactive


def _ip_config(data_dir: Path, skus: list[str], ports: Ports) -> IPEmulatorConfig:
    return IPEmulatorConfig(
        skus=skus,
        vendors=[{"id": f"v{10000 + n}", "display_name": f"V{10000 + n}"} for n in range(3)],
        warehouses=[{"id": f"{CONNECTION}.{code}", "display_name": name} for code, name in IP_WAREHOUSES],
        csv_connection=CONNECTION,
        sftp_port=ports.sftp,
        sftp_root=data_dir / "ip-sftp",
        sftp_known_hosts_path=data_dir / "ip_known_hosts",
        sync_poll_seconds=20.0,
    )


async def _serve(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start (e.g. the port is taken)
        await asyncio.sleep(0.05)
    return server, task


async def _main(data_dir: Path, ports: Ports, items: int, duration: float) -> None:
    settings = _settings(data_dir, ports)
    await asyncio.to_thread(migrate.upgrade, settings)
    sap_app = create_sap_emulator(EmulatorConfig(seed=7, items=items, warehouses=7))
    ip_app = create_ip_emulator(_ip_config(data_dir, _pick_ip_skus(sap_app.state.sap), ports))
    servers = [await _serve(sap_app, ports.sap), await _serve(ip_app, ports.ip)]
    api_app = create_app(settings)
    servers.append(await _serve(api_app, ports.api))
    base = f"http://127.0.0.1:{ports.api}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        demo = Demo(settings, ports, sap_app.state.sap, ip_app.state.ip, api, await _admin_key(settings))
        await _prepare(demo, base)
        from app.worker.settings import Worker

        worker = Worker(**_worker_kwargs(settings))
        worker_task = asyncio.create_task(worker.async_run())
        await _kick_off(demo, api_app.state.runtime)
        _banner(demo, base, data_dir)
        try:
            await _live(demo, duration)
            await _summary(demo)
        finally:
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker_task
            for server, task in reversed(servers):
                server.should_exit = True
                with contextlib.suppress(Exception):
                    await task


def _worker_kwargs(settings: Settings) -> dict[str, Any]:
    from app.worker.settings import worker_settings

    return worker_settings(settings, handle_signals=False)


async def _admin_key(settings: Settings) -> str:
    from app.auth import service as auth_service
    from app.db.engine import create_engine, sessionmaker
    from app.db.session import session_scope
    from app.models.api_key import Scope

    engine = create_engine(settings)
    try:
        async with session_scope(sessionmaker(engine)) as session:
            _, plain = await auth_service.create_key(
                session, name=f"demo-admin-{date.today()}", scope=Scope.admin
            )
    finally:
        await engine.dispose()
    return plain


async def _prepare(demo: Demo, base: str) -> None:
    """What an administrator does once: the SAP UDF, the mappings, the IP webhook subscription."""
    await _sap_setup(demo.settings)
    headers = {"Authorization": f"Bearer {demo.admin_key}"}
    imports = {
        "warehouses": _warehouse_mappings(),
        # group 107 ("Accessories") stays unmapped: UNMAPPED_CATEGORY
        "item-groups": [{"sap_group_code": g, "ip_category": f"category-{g}"} for g in range(100, 107)],
        # IP vendor v10002 stays unmapped: UNMAPPED_VENDOR
        "vendors": [{"ip_vendor": f"v{10000 + n}", "sap_card_code": f"V{10000 + n}"} for n in range(2)],
    }
    for kind, rows in imports.items():
        response = await demo.api.post(f"/mappings/{kind}/import", json=rows, headers=headers)
        response.raise_for_status()
    # The many-to-one mistake of the FAQ: a second SAP warehouse onto IP's MAIN without aggregate.
    refused = await demo.api.post(
        "/mappings/warehouses",
        headers=headers,
        json={"sap_warehouse_code": "04", "ip_warehouse_id": f"{CONNECTION}.MAIN", "mode": "direct"},
    )
    demo.refused_mapping = f"{refused.status_code}: {refused.json().get('detail', '')}"
    token = demo.settings.ip.webhook_token.get_secret_value()
    await _ensure_webhook(demo.settings, f"{base}/webhooks/inventory-planner/{token}")


def _warehouse_mappings() -> list[dict[str, Any]]:
    return [
        {"sap_warehouse_code": "01", "ip_warehouse_id": f"{CONNECTION}.MAIN", "mode": "direct"},
        {"sap_warehouse_code": "02", "ip_warehouse_id": f"{CONNECTION}.EAST", "mode": "aggregate"},
        {"sap_warehouse_code": "03", "ip_warehouse_id": f"{CONNECTION}.EAST", "mode": "aggregate"},
        # 04 stays unmapped (UNMAPPED_WAREHOUSE); 05 is non-nettable and excluded (NON_NETTABLE_STOCK).
        {"sap_warehouse_code": "05", "ip_warehouse_id": f"{CONNECTION}.QUAR", "mode": "direct"},
    ]


async def _sap_setup(settings: Settings) -> None:
    from app.integrations.sap_b1.client import SapB1Client
    from app.integrations.sap_b1.setup import ensure_ext_ref

    async with SapB1Client(settings.sap) as client:
        await ensure_ext_ref(client)


async def _ensure_webhook(settings: Settings, url: str) -> None:
    from app.integrations.inventory_planner.client import InventoryPlannerClient

    async with InventoryPlannerClient.from_settings(settings.ip) as client:
        await client.ensure_webhook(url)


async def _kick_off(demo: Demo, runtime: Any) -> None:
    """The first full sync, IP's ingest, a drifting SKU, a reconcile, and the first orders."""
    from app.sync import reconcile

    headers = {"Authorization": f"Bearer {demo.admin_key}"}
    run = (await demo.api.post("/sync/stock", json={"full": True}, headers=headers)).json()
    if (await _wait_for_run(demo, run["id"], headers)).get("files"):
        await _wait_for_delivery(demo, run["id"], headers)
    await asyncio.to_thread(demo.ip.run_sync)  # IP's nightly sync, now rather than at 02:00
    drifting, warehouse = demo.ip.config.skus[2], f"{CONNECTION}.MAIN"
    with contextlib.suppress(StopIteration, KeyError):
        # IP now disagrees with SAP, beyond both tolerances (1 unit and 5 %): 7 units alone were
        # within 5 % of this SKU's stock, and the demo's drift only showed when a cycle count
        # happened to land between the sync and IP's ingest.
        ip_stock = demo.ip.stock_of(drifting, warehouse) or 0.0
        demo.ip.skew_stock(drifting, warehouse, max(7.0, round(0.25 * ip_stock)))
    await reconcile.run(runtime)
    for po in list(demo.ip.purchase_orders.values())[:3]:
        await demo.ip.save_to_connection(po["id"])


async def _wait_for_run(demo: Demo, run_id: str, headers: dict[str, str]) -> dict[str, Any]:
    run: dict[str, Any] = {}
    for _ in range(600):
        run = (await demo.api.get(f"/sync/runs/{run_id}", headers=headers)).json()
        if run.get("finished_at"):
            console.print(f"first full sync: {run['status']}, counts {run['counts']}")
            return run
        await asyncio.sleep(0.5)
    return run


async def _wait_for_delivery(demo: Demo, run_id: str, headers: dict[str, str]) -> None:
    """The run's files reach IP's SFTP through a worker job of their own: IP's sync before they
    landed would read none of them, and the reconcile after it would show every SKU as drifting."""
    for _ in range(120):
        found = (await demo.api.get("/feeds/deliveries", headers=headers)).json()
        mine = [d for d in found if d["run_id"] == run_id]
        if mine and all(d["status"] == "delivered" for d in mine):
            return
        await asyncio.sleep(0.25)
    console.print("[yellow]the first sync's files are not on IP's SFTP yet: see /feeds/deliveries[/yellow]")


def _banner(demo: Demo, base: str, data_dir: Path) -> None:
    refused = demo.refused_mapping
    console.print(
        Panel.fit(
            f"[bold]b1bridge demo is running[/bold]\n\n"
            f"Swagger UI      {base}/docs   (Authorize → paste the admin key)\n"
            f"Admin API key   [bold]{demo.admin_key}[/bold]\n"
            f"Exceptions      {base}/exceptions\n"
            f"Stock           {base}/stock   ·   drift: {base}/stock/drift\n"
            f"Recommendations {base}/recommendations   ·   sync runs: {base}/sync/runs\n"
            f"SAP emulator    http://127.0.0.1:{demo.ports.sap}/b1s/v2  (stats: /_emulator/stats)\n"
            f"IP emulator     http://127.0.0.1:{demo.ports.ip}  (stats: /_emulator/stats)\n"
            f"SFTP files      {data_dir / 'ip-sftp'}\n\n"
            f"Refused many-to-one mapping: {refused}\n\n"
            f"From another shell: export B1BRIDGE_DATA_DIR={data_dir}  then  b1bridge reconcile\n"
            f"Ctrl-C stops everything.",
            title="b1bridge",
        )
    )


def _now() -> float:
    return asyncio.get_running_loop().time()


async def _summary(demo: Demo) -> None:
    """What a --duration run leaves behind, printed for the person (and the demo's smoke test)."""
    headers = {"Authorization": f"Bearer {demo.admin_key}"}
    summary = (await demo.api.get("/exceptions/summary", headers=headers)).json()
    stats = (await demo.api.get(f"http://127.0.0.1:{demo.ports.sap}/_emulator/stats")).json()
    console.print(f"open exceptions by type: { {r['type']: r['count'] for r in summary['rows']} }")
    console.print(f"SAP documents created: {stats.get('documents_created', {})}")


def _stocked_skus(sap_store: Any, warehouse: str) -> list[str]:
    stocked = []
    for item in sap_store.table("Items").rows.values():
        rows = [r for r in item["ItemWarehouseInfoCollection"] if r["WarehouseCode"] == warehouse]
        if item["Valid"] == "tYES" and item["Frozen"] == "tNO" and rows and rows[0]["InStock"] >= 20:
            stocked.append(item["ItemCode"])
    return stocked[:10] or [item["ItemCode"] for item in list(sap_store.table("Items").rows.values())[:10]]


async def _live(demo: Demo, duration: float) -> None:
    """Keep things moving: cycle-count adjustments through the API (posted to SAP as goods
    receipts/issues, then synced to IP) and orders saved in IP (webhook → SAP purchase order)."""
    rng = random.Random(7)
    headers = {"Authorization": f"Bearer {demo.admin_key}"}
    skus = _stocked_skus(demo.sap, "01")  # mostly ones a cycle count can take stock from
    tick = 0
    deadline = asyncio.get_running_loop().time() + duration if duration else None
    while deadline is None or asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(15 if deadline is None else min(15, max(0.1, deadline - _now())))
        tick += 1
        line = {"sku": rng.choice(skus), "warehouse": "01", "quantity": rng.choice([-3, -1, 2, 5])}
        body = {"reason": "demo cycle count", "effective_date": date.today().isoformat(), "lines": [line]}
        response = await demo.api.post(
            "/stock/adjustments", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
        )
        if response.status_code >= 400:
            console.print(
                f"[yellow]adjustment refused: {response.status_code} {response.text[:200]}[/yellow]"
            )
        if tick % 4 == 0:
            pos = [po for po in demo.ip.purchase_orders.values() if po["status"] in ("draft", "open")]
            if pos:
                await demo.ip.save_to_connection(rng.choice(pos)["id"])

"""Read benchmark: page every item with its warehouse rows three ways against the emulator.

    .venv/bin/python -m tests.benchmarks.sap_read --items 100000 --warehouses 5

(a) b1bridge's SapB1Client, (b) a bare httpx loop over the same pages (the raw-transfer limit),
(c) b1sl-python's AsyncB1Client. The emulator runs under uvicorn in its own process; each reader
runs in its own fresh subprocess so its peak RSS (getrusage) is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urljoin

import httpx

SELECT = "ItemCode,ItemWarehouseInfoCollection"
PASSWORD = "demo-password"
COMPANY = "SBODEMOUS"
USER = "manager"


# -- readers (run in a child process) --------------------------------------------------------


async def read_client(root: str, page_size: int) -> tuple[int, int]:
    from app.config import SapB1Settings
    from app.integrations.sap_b1.client import SapB1Client

    settings = SapB1Settings(base_url=root, password=PASSWORD, page_size=page_size)  # type: ignore[arg-type]
    items = rows = 0
    async with SapB1Client(settings) as client:
        async for page in client.iter_pages("Items", {"$select": SELECT}):
            items += len(page)
            for item in page:
                rows += len(item["ItemWarehouseInfoCollection"])
    return items, rows


async def read_bare(root: str, page_size: int) -> tuple[int, int]:
    items = rows = 0
    async with httpx.AsyncClient(base_url=root + "/", timeout=60) as http:
        login = await http.post("Login", json={"CompanyDB": COMPANY, "UserName": USER, "Password": PASSWORD})
        cookie = "; ".join(c.split(";", 1)[0] for c in login.headers.get_list("set-cookie"))
        headers = {"Cookie": cookie, "Prefer": f"odata.maxpagesize={page_size}"}
        url: str | None = f"Items?$select={SELECT}"
        while url:
            data = (await http.get(url, headers=headers)).json()
            page = data.get("value") or []
            if not page:
                break
            items += len(page)
            for item in page:
                rows += len(item["ItemWarehouseInfoCollection"])
            link = data.get("@odata.nextLink") or data.get("odata.nextLink")
            url = urljoin(root + "/", link) if link else None
    return items, rows


async def read_b1sl(root: str, page_size: int) -> tuple[int, int]:
    import logging

    from b1sl.b1sl import AsyncB1Client, B1Config
    from b1sl.b1sl.resources.base import ODataQuery

    logging.getLogger("b1sl").setLevel(logging.WARNING)
    config = B1Config(base_url=root, username=USER, password=PASSWORD, company_db=COMPANY, ssl_verify=False)
    items = rows = 0
    version = root.rstrip("/").rsplit("/", 1)[-1]
    async with AsyncB1Client(config, version=version) as b1:
        async for item in b1.items.stream(ODataQuery(select=SELECT.split(",")), page_size=page_size):
            items += 1
            rows += len(item.item_warehouse_info_collection or [])
    return items, rows


READERS: dict[str, Callable[[str, int], Awaitable[tuple[int, int]]]] = {
    "client": read_client, "bare": read_bare, "b1sl": read_b1sl}


# Imported before the clock starts: start-up import cost is not paging cost.
PRELOAD = {"client": ["app.config", "app.integrations.sap_b1.client"], "bare": [],
           "b1sl": ["b1sl.b1sl", "b1sl.b1sl.resources.base"]}


def child(mode: str, root: str, page_size: int) -> None:
    import importlib

    for module in PRELOAD[mode]:
        importlib.import_module(module)
    started = time.perf_counter()
    items, rows = asyncio.run(READERS[mode](root, page_size))
    seconds = time.perf_counter() - started
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"mode": mode, "items": items, "rows": rows, "seconds": seconds, "rss_kb": rss_kb}))


# -- emulator (run in its own process) --------------------------------------------------------


def serve(port: int, items: int, warehouses: int) -> None:
    import uvicorn

    from app.emulators.sap_b1.app import create_app
    from app.emulators.sap_b1.config import EmulatorConfig

    app = create_app(EmulatorConfig(items=items, warehouses=warehouses, login_delay_ms=0))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("emulator exited during start-up")
        try:
            httpx.get(f"{base}/_emulator/stats", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("emulator did not start")


def _run_child(mode: str, root: str, page_size: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "tests.benchmarks.sap_read", "--child", mode, "--root", root,
                          "--page-size", str(page_size)], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _medians(modes: list[str], root: str, page_size: int, repeat: int) -> dict[str, dict[str, Any]]:
    """Rounds interleave the readers (a, b, c, a, b, c, ...) so load on the machine hits all of them
    alike; each reader's median run is reported."""
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for _ in range(repeat):
        for mode in modes:
            runs[mode].append(_run_child(mode, root, page_size))
    return {mode: sorted(found, key=lambda r: r["seconds"])[len(found) // 2] for mode, found in runs.items()}


def _report(results: dict[str, dict[str, Any]]) -> None:
    for mode, r in results.items():
        print(f"{mode:>7}: {r['items']:>8} items {r['rows']:>9} warehouse rows  {r['seconds']:7.2f} s  "
              f"{r['items'] / r['seconds']:>9.0f} items/s  peak RSS {r['rss_kb'] / 1024:7.1f} MiB")
    a, b = results["client"]["seconds"], results["bare"]["seconds"]
    print(f"a/b (client / bare httpx) time ratio: {a / b:.3f}  (target <= 1.30)")
    if "b1sl" in results:
        print(f"a/c (client / b1sl)       time ratio: {a / results['b1sl']['seconds']:.3f}  (target < 1.00)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--warehouses", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--version", choices=["v1", "v2"], default="v2")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the median counts")
    parser.add_argument("--skip-b1sl", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--child", choices=sorted(READERS), help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.root, args.page_size)
    if args.serve:
        return serve(args.port, args.items, args.warehouses)
    _orchestrate(args)


def _orchestrate(args: argparse.Namespace) -> None:
    from tests.support.server import free_port

    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    emulator = subprocess.Popen([sys.executable, "-m", "tests.benchmarks.sap_read", "--serve",
                                 "--port", str(port), "--items", str(args.items),
                                 "--warehouses", str(args.warehouses)],
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        started = time.monotonic()
        _wait_ready(base, emulator)
        print(f"emulator ready in {time.monotonic() - started:.1f}s: {args.items} items x {args.warehouses} "
              f"warehouses, page size {args.page_size}, {args.version}")
        root = f"{base}/b1s/{args.version}"
        modes = ["bare", "client"] + ([] if args.skip_b1sl else ["b1sl"])
        _run_child("bare", root, args.page_size)  # warm the emulator (first traversal builds caches)
        results = _medians(modes, root, args.page_size, args.repeat)
        print(f"medians of {args.repeat} interleaved rounds:")
        _report({m: results[m] for m in ["client", "bare", "b1sl"] if m in results})
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


if __name__ == "__main__":
    main()

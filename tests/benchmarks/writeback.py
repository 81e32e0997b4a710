"""Write-back and webhook benchmark (prints figures; no timed asserts).

    .venv/bin/python -m tests.benchmarks.writeback [--lines 2000 --skus 400 --per-doc 5 --workers 1]
                                                   [--runs 5]

DATABASE_URL / REDIS_URL select PostgreSQL and a real Redis; default: SQLite + embedded Redis.

1. Pipeline: documents of `--per-doc` lines over `--skus` SKUs, posted by `--workers` real arq
   workers against the SAP emulator with 50 ms per write, a concurrency limit of 8 (503 beyond it)
   and OITW row-lock contention on. Throughput is reported as a fraction of the emulator's ceiling
   (8 / 50 ms = 160 writes/s), with SAP-side lock conflicts, 503s and duplicates by external
   reference. The emulator and every worker run in their own processes, as in production: sharing
   one GIL would make the emulator's own CPU time look like pipeline latency. The clock runs from
   "go", sent once every worker has started up (database connection open, SAP sessions logged in,
   periods loaded, as a long-running worker has), until the last worker reports its queue empty
   and every job finished; `docs_per_s_to_exit` also counts the workers' interpreter shutdown.
   One worker by default: on this 2-core machine a second one halves each worker's group-commit
   batches and costs more CPU per document than it adds (0.81 vs 0.86 of the ceiling).
2. Webhook intake: requests/s of POST /webhooks/inventory-planner/{token} against a bare FastAPI
   endpoint answering 202, each served by uvicorn in its own process, both driven by the same
   client (in this process) at the same concurrency, in five interleaved rounds; the
   fraction is the median of the per-round ratios.

`--runs N` repeats each benchmark N times (a fresh database each time), prints every run, then the
median and range of the headline figure: on a shared machine one run says little.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx

WRITE_MS = 50
SAP_LIMIT = 8
TOKEN = "test-webhook-token-0123456789abcdef"
ME = "tests.benchmarks.writeback"


# --- child processes ------------------------------------------------------------------------------


def _sap_config(items: int) -> Any:
    from app.emulators.sap_b1.config import EmulatorConfig, FaultConfig

    faults = FaultConfig(write_latency_ms=WRITE_MS, max_concurrency=SAP_LIMIT, row_lock_contention=True)
    return EmulatorConfig(seed_ext_ref_udf=True, items=items, faults=faults)


def _spec(data_dir: str, database_url: str | None, **extra: Any) -> dict[str, Any]:
    """What every process of one run is built from (JSON, passed on the command line)."""
    return {
        "data_dir": data_dir,
        "database_url": database_url,
        "redis_url": os.environ.get("REDIS_URL") or None,
        "namespace": f"b1b-bench-{random.randrange(1 << 32):08x}",
        "ip_url": "http://127.0.0.1:9",  # benchmark documents never update IP
        **extra,
    }


def _settings(spec: dict[str, Any]) -> Any:
    """The same Settings in every process of one run (namespace included)."""
    from app.config import InventoryPlannerSettings, SapB1Settings, WritebackSettings
    from tests.conftest import make_settings

    return make_settings(
        Path(spec["data_dir"]),
        spec["database_url"],
        REDIS_URL=spec["redis_url"],
        B1BRIDGE_REDIS_NAMESPACE=spec["namespace"],
        sap=SapB1Settings(
            base_url=spec["sap_url"] + "/b1s/v2", max_concurrency=SAP_LIMIT, timeout_seconds=10
        ),
        ip=InventoryPlannerSettings(base_url=spec["ip_url"], webhook_token=TOKEN),  # type: ignore[arg-type]
        writeback=WritebackSettings(backoff_base_seconds=0.05, backoff_cap_seconds=0.5, retry_budget=15),
    )


def _serve_child(what: str, port: int, spec: dict[str, Any]) -> None:
    import uvicorn

    if what == "sap":
        from app.emulators.sap_b1.app import create_app as create_sap

        app: Any = create_sap(_sap_config(spec["items"]))
    elif what == "bare":
        app = _bare()
    else:
        from app.main import create_app

        app = create_app(_settings(spec))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _worker_child(spec: dict[str, Any], max_jobs: int | None) -> None:
    """One arq worker process: starts up, says ready, runs in burst mode on "go", says done."""
    from unittest import mock

    from app.kit import loop
    from app.worker import settings as worker_module
    from app.worker.settings import Worker

    settings = _settings(spec)

    async def started(ctx: dict[str, Any]) -> None:
        """The worker's own start-up, then what a long-running worker has done long before its
        next document: a database connection open, both SAP sessions logged in, periods loaded."""
        from sqlalchemy import text

        from app.db.session import session_scope
        from app.writeback import clients, periods

        await worker_module.startup(ctx)
        runtime = ctx["runtime"]
        async with session_scope(runtime.sessionmaker) as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        await periods.periods(clients.sap_reader(runtime), 3600)
        await clients.sap_writer(runtime).login()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

    async def run() -> None:
        # Built inside the loop: arq's Worker binds the running event loop when it is created.
        with mock.patch.object(worker_module, "cron_jobs", lambda settings: []):
            jobs = {"max_jobs": max_jobs} if max_jobs else {}
            worker = Worker(**worker_module.worker_settings(settings, burst=True, on_startup=started, **jobs))
        try:
            await worker.main()  # burst: returns once the queue is empty and every job finished
            print("done", flush=True)
        finally:
            await worker.close()

    loop.install()  # as `b1bridge worker` does
    if not (profile := os.environ.get("BENCH_PROFILE")):
        asyncio.run(run())
        return
    from pyinstrument import Profiler  # BENCH_PROFILE=dir: one HTML profile per worker

    with Profiler(async_mode="disabled") as profiler:
        asyncio.run(run())
    profiler.write_html(Path(profile) / f"worker-{os.getpid()}.html")
    Path(profile, f"worker-{os.getpid()}.txt").write_text(profiler.output_text(unicode=False, show_all=False))


def _bare() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/hook", status_code=202)
    async def hook(body: dict[str, Any]) -> dict[str, bool]:
        return {"ok": True}

    return app


@contextlib.contextmanager
def _served(what: str, spec: dict[str, Any], probe: str) -> Iterator[str]:
    from tests.support.server import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", ME, "--serve", what, str(port), json.dumps(spec)])
    url = f"http://127.0.0.1:{port}"
    spec[f"{what}_pid"] = proc.pid
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"{what} server exited during start-up")
            try:
                httpx.get(url + probe, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- pipeline ---------------------------------------------------------------------------------------


def _buyable_items(items: int, count: int) -> list[str]:
    """The emulator's company is generated from its seed: build the same one here to pick items."""
    from app.emulators.sap_b1.store import SapStore
    from tests.writeback.harness import buyable

    return buyable(SapStore(_sap_config(items)), count)


async def _prepare(spec: dict[str, Any], codes: list[str], lines: int, per_doc: int) -> int:
    from sqlalchemy import delete
    from sqlmodel import SQLModel

    from app.db import migrate
    from app.db.session import session_scope
    from app.outbox import relay
    from app.runtime import Runtime
    from app.writeback import service as writeback

    settings = _settings(spec)
    await asyncio.to_thread(migrate.upgrade, settings)
    runtime = Runtime.build(settings)
    rng = random.Random(11)
    docs = lines // per_doc
    try:
        async with session_scope(runtime.sessionmaker) as session:
            for table in reversed(SQLModel.metadata.sorted_tables):
                await session.exec(delete(table))  # type: ignore[call-overload]
        async with session_scope(runtime.sessionmaker) as session:
            for n in range(docs):
                rows = [
                    {
                        "line_no": i + 1,
                        "item_code": c,
                        "warehouse_code": "01",
                        "quantity": "2",
                        "price": "1.5",
                    }
                    for i, c in enumerate(rng.sample(codes, per_doc))
                ]
                await writeback.queue(
                    session,
                    source_type="bench",
                    source_id=f"b{n}",
                    entity="PurchaseOrders",
                    ext_ref=f"bench:{n}",
                    group_key="po",
                    doc_date=date.today(),
                    header={"card_code": "V10000", "due_date": "2031-07-01"},
                    lines=rows,
                )
        await relay.relay_once(
            runtime.sessionmaker, runtime.redis, queue_name=runtime.queue_name, batch=100_000
        )
    finally:
        await runtime.close()
    return docs


def _run_workers(spec: dict[str, Any], workers: int, max_jobs: int | None) -> dict[str, float]:
    """Seconds from "go" until the last worker said done (its queue empty, every job finished),
    and until the last one exited; and the workers' CPU seconds in between."""
    cmd = [sys.executable, "-m", ME, "--worker", json.dumps(spec)]
    if max_jobs:
        cmd += ["--max-jobs", str(max_jobs)]
    verbose = bool(os.environ.get("BENCH_VERBOSE"))
    procs = [
        subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if verbose else subprocess.DEVNULL,
            text=True,
        )
        for _ in range(workers)
    ]
    for proc in procs:  # start-up (imports, connections, logins) is not part of the figure
        assert proc.stdout is not None
        while (line := proc.stdout.readline()) and line.strip() != "ready":
            pass
    done: list[float] = []
    for proc in procs:  # the worker logs to stdout from here on: drain it, or it would stall
        threading.Thread(target=_drain, args=(proc.stdout, verbose, done), daemon=True).start()
    startup_cpu = sum(_cpu_seconds(proc.pid) for proc in procs)
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    cpu = -startup_cpu
    for proc in procs:  # wait4: the workers' own CPU seconds, to say what bounds the figure
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        cpu += usage.ru_utime + usage.ru_stime
    exited = time.perf_counter() - started
    if len(done) < workers:
        raise RuntimeError("a worker exited without finishing its queue")
    return {"seconds": max(done) - started, "seconds_to_exit": exited, "cpu": cpu}


def _drain(stream: Any, echo: bool, done: list[float]) -> None:
    for line in stream:
        if line.strip() == "done":
            done.append(time.perf_counter())
        elif echo:
            sys.stderr.write(line)


def pipeline_benchmark(
    database_url: str | None, lines: int, skus: int, per_doc: int, workers: int, max_jobs: int | None
) -> dict[str, Any]:
    items = max(skus + 100, 500)
    with tempfile.TemporaryDirectory() as tmp:
        spec = _spec(tmp, database_url, items=items, sap_url="")
        with _embedded_redis(spec), _served("sap", spec, "/_emulator/stats") as sap_url:
            spec["sap_url"] = sap_url
            docs = asyncio.run(_prepare(spec, _buyable_items(items, skus), lines, per_doc))
            emulator_before = _cpu_seconds(spec["sap_pid"])
            timing = _run_workers(spec, workers, max_jobs)
            emulator_cpu = _cpu_seconds(spec["sap_pid"]) - emulator_before
            stats = httpx.get(sap_url + "/_emulator/stats").json()
    created = stats["documents_created"].get("PurchaseOrders", 0)
    elapsed, worker_cpu = timing["seconds"], timing["cpu"]
    rate = created / elapsed
    ceiling = SAP_LIMIT / (WRITE_MS / 1000)
    return {
        "documents": docs,
        "created": created,
        "workers": workers,
        "max_jobs": max_jobs or _settings(spec).worker_max_jobs,
        "seconds": round(elapsed, 2),
        "docs_per_s": round(rate, 1),
        # The same run up to the workers' exit (interpreter shutdown included), for comparison.
        "docs_per_s_to_exit": round(created / timing["seconds_to_exit"], 1),
        "ceiling_docs_per_s": ceiling,
        "fraction_of_ceiling": round(rate / ceiling, 3),
        "sap_lock_conflicts": stats["lock_conflicts"],
        "sap_503s": stats["faults"].get("max_concurrency", 0),
        "duplicates": sum(stats["duplicates_by_ext_ref"].values()),
        "faults": stats["faults"],
        "sap_requests": sum(stats["requests_by_route"].values()),
        # CPU per document: with os.cpu_count() cores, this bounds docs/s whatever the waits do.
        "worker_cpu_ms_per_doc": round(1000 * worker_cpu / max(created, 1), 1),
        "emulator_cpu_ms_per_doc": round(1000 * emulator_cpu / max(created, 1), 1),
        "cpus": os.cpu_count(),
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@contextlib.contextmanager
def _embedded_redis(spec: dict[str, Any]) -> Iterator[None]:
    """Without REDIS_URL, one embedded server for the run, reached by every child over its socket."""
    if spec["redis_url"]:
        yield
        return
    from app.kit import redis as redis_kit

    spec["redis_url"] = "unix://" + redis_kit.embedded_socket(Path(spec["data_dir"]))
    try:
        yield
    finally:
        redis_kit.shutdown_embedded()


# --- webhooks ---------------------------------------------------------------------------------------


async def _hammer(url: str, requests: int, concurrency: int, first: int = 0) -> float:
    counter = iter(range(first, first + requests))  # PO ids unique across rounds: no duplicates

    async def one(client: httpx.AsyncClient) -> None:
        for n in counter:
            body = {"purchase-order": {"id": f"po_{n}", "last_modified": "2031-01-01T00:00:00Z"}}
            response = await client.post(url, json=body)
            assert response.status_code == 202, response.text

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await client.post(url, json={"purchase-order": {"id": f"warm_{first}", "last_modified": "x"}})
        started = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


def _interleaved(
    urls: dict[str, str], requests: int, concurrency: int, rounds: int
) -> dict[str, list[float]]:
    """`requests` per server, in `rounds` alternating rounds (A B, B A, ...): on a machine shared
    with other work, load drifts within seconds, and back-to-back runs would compare two loads."""
    per_round = max(requests // rounds, concurrency)
    rates: dict[str, list[float]] = {name: [] for name in urls}
    for n in range(rounds):
        for name in list(urls) if n % 2 == 0 else list(reversed(urls)):
            rates[name].append(asyncio.run(_hammer(urls[name], per_round, concurrency, n * per_round)))
    return rates


def webhook_benchmark(
    database_url: str | None, requests: int, concurrency: int, rounds: int = 5
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        spec = _spec(tmp, database_url, sap_url="http://127.0.0.1:9")
        with _embedded_redis(spec):
            from app.db import migrate

            migrate.upgrade(_settings(spec))
            with _served("bare", spec, "/docs") as bare_url, _served("api", spec, "/health/live") as api_url:
                urls = {
                    "bare": bare_url + "/hook",
                    "webhook": f"{api_url}/webhooks/inventory-planner/{TOKEN}",
                }
                rates = _interleaved(urls, requests, concurrency, rounds)
    fractions = [ours / bare for ours, bare in zip(rates["webhook"], rates["bare"], strict=True)]
    return {
        "requests": requests,
        "concurrency": concurrency,
        "rounds": rounds,
        "method": "uvicorn servers in their own processes, one httpx client process, interleaved rounds",
        "bare_req_per_s": round(statistics.median(rates["bare"])),
        "webhook_req_per_s": round(statistics.median(rates["webhook"])),
        # The median of the per-round ratios: each pairs two runs taken seconds apart.
        "fraction_of_bare": round(statistics.median(fractions), 3),
        "fraction_per_round": [round(f, 3) for f in fractions],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=400)
    parser.add_argument("--per-doc", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-jobs", type=int, help="jobs per worker (default: B1BRIDGE_WORKER_MAX_JOBS)")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1, help="repeat each benchmark; print median and range")
    parser.add_argument("--skip-webhooks", action="store_true")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--serve", nargs=3, metavar=("WHAT", "PORT", "SPEC"), help=argparse.SUPPRESS)
    parser.add_argument("--worker", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return _serve_child(args.serve[0], int(args.serve[1]), json.loads(args.serve[2]))
    if args.worker:
        return _worker_child(json.loads(args.worker), args.max_jobs)

    from tests.support.databases import fresh_database

    base = os.environ.get("DATABASE_URL")
    if not args.skip_pipeline:
        runs = []
        for _ in range(args.runs):
            with fresh_database(base) as url:
                runs.append(pipeline_benchmark(
                    url, args.lines, args.skus, args.per_doc, args.workers, args.max_jobs
                ))
            print("pipeline:", runs[-1], flush=True)
        if args.runs > 1:
            print("pipeline, all runs:", {
                **_spread(runs, "fraction_of_ceiling"),
                **_spread(runs, "docs_per_s"),
                **_spread(runs, "worker_cpu_ms_per_doc"),
                "all_created": all(r["created"] == r["documents"] for r in runs),
                **{k: sum(r[k] for r in runs) for k in ("sap_lock_conflicts", "sap_503s", "duplicates")},
            }, flush=True)
    if not args.skip_webhooks:
        hooks = []
        for _ in range(args.runs):
            with fresh_database(base) as url:
                hooks.append(webhook_benchmark(url, args.requests, args.concurrency))
            print("webhooks:", hooks[-1], flush=True)
        if args.runs > 1:
            print("webhooks, all runs:", _spread(hooks, "fraction_of_bare"), flush=True)


def _spread(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    values = [r[key] for r in runs]
    return {f"{key}_median": round(statistics.median(values), 3), f"{key}_range": [min(values), max(values)]}


if __name__ == "__main__":
    main()

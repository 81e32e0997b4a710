"""Write-back and webhook benchmark (prints figures; no timed asserts).

    .venv/bin/python -m tests.benchmarks.writeback [--lines 2000 --skus 400 --per-doc 5]

1. Pipeline: documents of `--per-doc` lines over `--skus` SKUs, posted by real arq workers against
   the SAP emulator with 50 ms per write and a concurrency limit of 8. Throughput is reported as a
   fraction of the emulator's ceiling (8 / 50 ms = 160 writes/s), with SAP-side lock conflicts and
   duplicates by external reference.
2. Webhook intake: requests/s of POST /webhooks/inventory-planner/{token} against a bare FastAPI
   endpoint answering 202 on the same machine, same client, same concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from arq.worker import Worker
from fastapi import FastAPI

from app.db import migrate
from app.db.session import session_scope
from app.emulators.sap_b1.config import FaultConfig
from app.main import create_app
from app.writeback import clients, periods
from app.writeback import service as writeback
from tests.support.databases import fresh_database
from tests.support.server import serve
from tests.writeback.harness import TOKEN, Stack, stack

WRITE_MS = 50
SAP_LIMIT = 8


async def _queue_documents(s: Stack, lines: int, skus: int, per_doc: int) -> int:
    codes = s.buyable_items(skus)
    rng = random.Random(11)
    docs = lines // per_doc
    async with session_scope(s.runtime.sessionmaker) as session:
        for n in range(docs):
            picked = rng.sample(codes, per_doc)
            rows = [
                {"line_no": i + 1, "item_code": c, "warehouse_code": "01", "quantity": "2", "price": "1.5"}
                for i, c in enumerate(picked)
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
    return docs


async def _run_workers(s: Stack, workers: int) -> float:
    from unittest import mock

    from app.outbox import relay
    from app.worker import settings as worker_module

    await relay.relay_once(
        s.runtime.sessionmaker, s.runtime.redis, queue_name=s.runtime.queue_name, batch=100_000
    )
    with mock.patch.object(worker_module, "cron_jobs", lambda settings: []):
        pool = [
            Worker(**worker_module.worker_settings(s.settings, burst=True, poll_delay=0.01, max_jobs=12))
            for _ in range(workers)
        ]
    started = time.perf_counter()
    await asyncio.gather(*(w.main() for w in pool))
    elapsed = time.perf_counter() - started
    for w in pool:
        await w.close()
    return elapsed


async def pipeline_benchmark(
    url: str | None, lines: int, skus: int, per_doc: int, workers: int
) -> dict[str, Any]:
    faults = FaultConfig(write_latency_ms=WRITE_MS, max_concurrency=SAP_LIMIT)
    with tempfile.TemporaryDirectory() as tmp:
        async with stack(
            Path(tmp),
            url,
            sap_faults=faults,
            sap={"items": max(skus + 100, 500)},
            concurrency=SAP_LIMIT,
            retry_budget=15,
        ) as s:
            await periods.periods(clients.sap(s.runtime), max_age=3600)
            docs = await _queue_documents(s, lines, skus, per_doc)
            elapsed = await _run_workers(s, workers)
            stats = s.sap_stats()
    created = stats["documents_created"].get("PurchaseOrders", 0)
    rate = created / elapsed
    ceiling = SAP_LIMIT / (WRITE_MS / 1000)
    return {
        "documents": docs,
        "created": created,
        "seconds": round(elapsed, 2),
        "docs_per_s": round(rate, 1),
        "ceiling_docs_per_s": ceiling,
        "fraction_of_ceiling": round(rate / ceiling, 3),
        "sap_lock_conflicts": stats["lock_conflicts"],
        "duplicates": sum(stats["duplicates_by_ext_ref"].values()),
        "faults": stats["faults"],
    }


async def _hammer(url: str, requests: int, concurrency: int, body: Any) -> float:
    counter = iter(range(requests))

    async def one(client: httpx.AsyncClient) -> None:
        for n in counter:
            response = await client.post(url, json=body(n))
            assert response.status_code == 202, response.text

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


def _bare() -> FastAPI:
    app = FastAPI()

    @app.post("/hook", status_code=202)
    async def hook(body: dict[str, Any]) -> dict[str, bool]:
        return {"ok": True}

    return app


async def webhook_benchmark(requests: int, concurrency: int) -> dict[str, Any]:
    from app.config import InventoryPlannerSettings
    from tests.conftest import make_settings

    def body(n: int) -> dict[str, Any]:
        return {"purchase-order": {"id": f"po_{n}", "last_modified": "2031-01-01T00:00:00Z"}}

    with serve(_bare()) as bare_url:
        bare = await _hammer(bare_url + "/hook", requests, concurrency, body)
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), None, ip=InventoryPlannerSettings(webhook_token=TOKEN))  # type: ignore[arg-type]
        await asyncio.to_thread(migrate.upgrade, settings)
        with serve(create_app(settings)) as api_url:
            ours = await _hammer(f"{api_url}/webhooks/inventory-planner/{TOKEN}", requests, concurrency, body)
    return {
        "requests": requests,
        "concurrency": concurrency,
        "bare_req_per_s": round(bare),
        "webhook_req_per_s": round(ours),
        "fraction_of_bare": round(ours / bare, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=400)
    parser.add_argument("--per-doc", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    # DATABASE_URL / REDIS_URL select PostgreSQL and a real Redis; default: SQLite + embedded Redis.
    with fresh_database(os.environ.get("DATABASE_URL")) as url:
        figures = asyncio.run(pipeline_benchmark(url, args.lines, args.skus, args.per_doc, args.workers))
    print("pipeline:", figures)
    print("webhooks:", asyncio.run(webhook_benchmark(args.requests, args.concurrency)))


if __name__ == "__main__":
    main()

"""Reconcile: fetch IP's own stock (GET /variants), store it next to what we sent, report drift and
SKU mismatches. IP's figures move nightly, so this runs a few times a day (reference IP §10.10)."""

from __future__ import annotations

from typing import Any

from app.db.session import session_scope
from app.integrations import clients
from app.kit.time import utcnow
from app.runtime import Runtime
from app.sync import monitor

VARIANT_FIELDS = ["id", "sku", "removed", "in_stock", "warehouse"]


async def run(runtime: Runtime) -> dict[str, Any]:
    now = utcnow()
    ip = clients.ip(runtime)
    summary: dict[str, Any] = {"variants": 0, "stock_rows": 0}
    ip_skus: dict[str, bool] = {}
    async for page in ip.iter_variant_pages(fields=VARIANT_FIELDS):
        async with session_scope(runtime.sessionmaker) as session:
            counts = await monitor.store_ip_view(session, page.good, now)
        summary["variants"] += counts["variants"]
        summary["stock_rows"] += counts["stock_rows"]
        ip_skus.update({v.sku or str(v.id): bool(v.removed) for v in page.good})
    async with session_scope(runtime.sessionmaker) as session:
        summary["sku_mismatch"] = await monitor.apply(
            session, "SKU_MISMATCH", await monitor.mismatches(session, ip_skus, now)
        )
        summary["detected"] = await monitor.detect(session, runtime.settings)
    return summary

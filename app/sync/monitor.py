"""Detectors applied: read the stored state, run the pure detectors, write the exception register.

Every detector family raises what it found and clears (auto-resolves) what it raised before and no
longer finds, scoped by `source` so another domain's exceptions of the same type are left alone.
Also the reconcile job: IP's own view of stock (GET /variants) stored next to what we sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.exceptions import service as exception_service
from app.kit.time import as_utc, utcnow
from app.models.feeds import DeliveryStatus
from app.models.sync import RunMode
from app.sync import detectors, repository, rules
from app.sync.detectors import Finding

logger = logging.getLogger("b1bridge.sync.monitor")
SOURCE = "sync"
STREAMS = ("stock", "receipts")


async def apply(
    session: AsyncSession, type_: str, findings: Iterable[Finding], *, source: str = SOURCE
) -> int:
    """Raise each finding and resolve this detector's exceptions that no longer appear."""
    present = []
    for f in findings:
        await exception_service.raise_exception(
            session,
            type_,
            f.subject,
            evidence=f.evidence,
            message=f.message,
            severity=f.severity,
            source=source,
        )
        present.append(f.subject)
    await exception_service.clear_missing(session, type_, present, source=source)
    return len(present)


async def detect(session: AsyncSession, settings: Settings) -> dict[str, int]:
    """Every detector, from stored state (cheap enough to run after each sync and on a schedule)."""
    found: dict[str, int] = {}
    for type_, findings in (await _warehouse_findings(session)).items():
        found[type_] = await apply(session, type_, findings)
    found["UNMAPPED_CATEGORY"] = await apply(session, "UNMAPPED_CATEGORY", await _category_findings(session))
    for type_, findings in (await _item_findings(session, settings)).items():
        found[type_] = await apply(session, type_, findings)
    found["SYNC_LAG"] = await apply(session, "SYNC_LAG", await _lag_findings(session, settings))
    found["FEED_DEADLINE_MISSED"] = await apply(
        session, "FEED_DEADLINE_MISSED", await _deadline_findings(session, settings)
    )
    return found


async def _warehouse_findings(session: AsyncSession) -> dict[str, list[Finding]]:
    from app.mappings import service as mapping_service

    stocks = []
    for code, exclusion, total, skus in await repository.warehouse_totals(session):
        sample = tuple(await repository.sample_skus(session, code)) if exclusion else ()
        stocks.append(detectors.WarehouseStock(code, exclusion, total, skus, sample))
    warehouses = [
        rules.Warehouse(w.code, w.name, w.inactive, w.nettable, w.drop_ship)
        for w in await repository.sap_warehouses(session)
    ]
    mappings = await mapping_service.warehouse_map(session)
    conflicts = rules.conflicts(rules.route(w, mappings.get(w.code)) for w in warehouses)
    return {
        "UNMAPPED_WAREHOUSE": detectors.unmapped_warehouses(stocks),
        "NON_NETTABLE_STOCK": detectors.non_nettable_stock(stocks),
        "WAREHOUSE_MAPPING_CONFLICT": detectors.mapping_conflicts(conflicts),
    }


async def _category_findings(session: AsyncSession) -> list[Finding]:
    from app.mappings import service as mapping_service

    mapped = await mapping_service.item_group_map(session)
    counts = {g: n for g, n in (await repository.group_counts(session)).items() if g not in mapped}
    return detectors.unmapped_categories(counts)


async def _item_findings(session: AsyncSession, settings: Settings) -> dict[str, list[Finding]]:
    """INACTIVE_ITEM and STOCK_DRIFT, over the rows that can raise them (filtered in SQL by each
    detector's own first condition; the pure detectors decide)."""
    open_recs = await _open_recommendation_skus(session)
    inactive = []
    for sku, rule, ip_removed, sent_hash, sent_removed in await repository.excluded_items(
        session, detectors.INACTIVE_RULES
    ):
        ip_live = (
            (ip_removed is False) if ip_removed is not None else (sent_hash is not None and not sent_removed)
        )
        if finding := detectors.inactive_item(
            sku, rule, ip_live=ip_live, open_recommendations=open_recs.get(sku, 0)
        ):
            inactive.append(finding)
    return {"INACTIVE_ITEM": inactive, "STOCK_DRIFT": [f for f, _ in await drift(session, settings)]}


async def drift(session: AsyncSession, settings: Settings) -> list[tuple[Finding, datetime | None]]:
    """STOCK_DRIFT findings, each with when IP reported its figure, over the live IP rows whose two
    figures differ by more than the absolute tolerance (the rest never leave the database). The
    detectors pass and /stock/drift both read drift from here."""
    abs_tolerance, pct_tolerance = settings.sync.drift_abs_tolerance, settings.sync.drift_pct_tolerance
    found = []
    for sku, warehouse, sap_available, ip_in_stock, price, ip_seen_at in await repository.drift_candidates(
        session, abs_tolerance
    ):
        finding = detectors.drift(
            sku,
            warehouse,
            sap_available=sap_available,
            ip_in_stock=ip_in_stock,
            avg_price=price or 0.0,
            abs_tolerance=abs_tolerance,
            pct_tolerance=pct_tolerance,
        )
        if finding:
            found.append((finding, ip_seen_at))
    return found


async def _open_recommendation_skus(session: AsyncSession) -> dict[str, int]:
    """Open recommendations per SKU, through the orders engineer's service when it offers one."""
    try:
        from app.recommendations import service as recommendation_service
    except ImportError:
        return {}
    counter = getattr(recommendation_service, "open_counts_by_sku", None)
    return dict(await counter(session)) if counter else {}


async def _lag_findings(session: AsyncSession, settings: Settings) -> list[Finding]:
    now, threshold = utcnow(), timedelta(minutes=settings.sync.lag_minutes)
    out = []
    for stream in STREAMS:
        last = await repository.last_success(session, stream)
        at = as_utc(last.finished_at) if last and last.finished_at else None
        if last is None and await repository.last_run(session, stream) is None:
            continue  # never asked to run: no lag to speak of yet
        if finding := detectors.sync_lag(stream, at, now, threshold):
            out.append(finding)
    return out


async def _deadline_findings(session: AsyncSession, settings: Settings) -> list[Finding]:
    from app.feeds import repository as feeds_repository

    if settings.ip.feed_mode == "starter":
        return []
    now = utcnow()
    cutoff = detectors.feed_cutoff(
        now, settings.ip.account_timezone, settings.ip.nightly_sync_at, settings.sync.feed_lead_minutes
    )
    first = await repository.first_run(session, "stock")
    if first is None or as_utc(first.created_at) > cutoff:
        return []  # b1bridge was not running yet at that cut-off
    queued = await feeds_repository.count(session, status=DeliveryStatus.queued, created_before=cutoff)
    full = await repository.last_success(session, "stock", RunMode.full.value)
    full_at = as_utc(full.finished_at) if full and full.finished_at else None
    finding = detectors.feed_deadline(cutoff, queued_before_cutoff=queued, last_full_success_at=full_at)
    return [finding] if finding else []


# --- reconcile: IP's own view -------------------------------------------------------------------------


async def store_ip_view(session: AsyncSession, variants: Iterable[Any], now: Any) -> dict[str, Any]:
    """Record IP's in_stock per SKU x warehouse and whether IP still has each variant live."""
    ip_skus: dict[str, bool] = {}
    stock: list[dict[str, Any]] = []
    for v in variants:
        sku = v.sku or str(v.id)
        ip_skus[sku] = bool(v.removed)
        for block in v.warehouse:
            if block.warehouse is not None and block.in_stock is not None:
                stock.append(
                    {
                        "sku": sku,
                        "wh": rules.local_warehouse_id(str(block.warehouse)),
                        "in_stock": float(block.in_stock),
                    }
                )
    await repository.set_ip_view(session, ip_skus, stock, now)
    return {"variants": len(ip_skus), "stock_rows": len(stock)}


async def mismatches(session: AsyncSession, ip_skus: dict[str, bool], now: Any) -> list[Finding]:
    """SKU_MISMATCH both ways: IP variants SAP does not know, live SAP items IP never got."""
    found: list[Finding] = []
    sap = await repository.sku_index(session)
    for sku, removed in ip_skus.items():
        if f := detectors.ip_variant_without_item(sku, sap_known=sku in sap, ip_removed=removed):
            found.append(f)
    for sku, (live, sent_at) in sap.items():
        if f := detectors.item_never_reached_ip(
            sku,
            live=live,
            sent_at=as_utc(sent_at) if sent_at else None,
            in_ip=sku in ip_skus,
            now=now,
            grace=timedelta(hours=26),
        ):
            found.append(f)
    return found

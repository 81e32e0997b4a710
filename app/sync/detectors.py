"""Pure detectors: facts in, findings out. The service writes findings to the exception register
and clears the ones that stopped appearing (tests/sync/test_detectors.py tables every case).

Subjects are the register's dedupe key, so they name the thing, never a measurement: a drift of 3
and then of 5 on the same SKU is one exception whose evidence changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.sync import rules


@dataclass(frozen=True)
class Finding:
    type: str
    subject: dict[str, Any]
    evidence: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    severity: str | None = None


@dataclass(frozen=True)
class WarehouseStock:
    """What one SAP warehouse held in the last run (summed over SKUs)."""

    code: str
    exclusion: str | None
    available: float = 0.0
    skus: int = 0
    sample: tuple[str, ...] = ()


def unmapped_warehouses(stocks: Iterable[WarehouseStock]) -> list[Finding]:
    return [
        Finding(
            "UNMAPPED_WAREHOUSE",
            {"warehouse": s.code},
            {"available": s.available, "skus": s.skus, "sample_skus": list(s.sample)},
            f"SAP warehouse {s.code} holds stock of {s.skus} SKU(s) that is not sent to IP",
        )
        for s in stocks
        if s.exclusion == rules.UNMAPPED_WAREHOUSE
    ]


def mapping_conflicts(conflicts: Mapping[str, list[str]]) -> list[Finding]:
    return [
        Finding(
            "WAREHOUSE_MAPPING_CONFLICT",
            {"ip_warehouse": ip},
            {"sap_warehouses": codes},
            f"SAP warehouses {', '.join(codes)} all map to {ip} without mode=aggregate; "
            "its stock is held until the mapping is fixed",
        )
        for ip, codes in sorted(conflicts.items())
    ]


def unmapped_categories(counts: Mapping[int | None, int]) -> list[Finding]:
    return [
        Finding("UNMAPPED_CATEGORY", {"item_group": group}, {"items": n})
        for group, n in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        if n
    ]


def non_nettable_stock(stocks: Iterable[WarehouseStock]) -> list[Finding]:
    """Stock IP would count but policy keeps out (non-nettable, drop-ship, inactive warehouse)."""
    return [
        Finding(
            "NON_NETTABLE_STOCK",
            {"warehouse": s.code},
            {"rule": s.exclusion, "available": s.available, "skus": s.skus, "sample_skus": list(s.sample)},
        )
        for s in stocks
        if s.exclusion in rules.POLICY_EXCLUSIONS and s.available > 0
    ]


# The exclusions that make an item "inactive" in SAP's sense (not group or mapping policy).
INACTIVE_RULES = (rules.INACTIVE_ITEM, rules.FROZEN_ITEM, rules.NON_INVENTORY_ITEM)


def inactive_item(
    sku: str, exclusion: str | None, *, ip_live: bool, open_recommendations: int = 0
) -> Finding | None:
    """A not-live SAP item that IP still plans (a live variant) or an open recommendation orders."""
    if exclusion not in INACTIVE_RULES:
        return None
    if not ip_live and not open_recommendations:
        return None
    return Finding(
        "INACTIVE_ITEM",
        {"sku": sku},
        {"rule": exclusion, "ip_variant_live": ip_live, "open_recommendations": open_recommendations},
    )


def ip_variant_without_item(sku: str, *, sap_known: bool, ip_removed: bool) -> Finding | None:
    if sap_known or ip_removed:
        return None
    return Finding(
        "SKU_MISMATCH",
        {"sku": sku, "kind": "ip_variant_without_sap_item"},
        message=f"IP has a live variant {sku} that SAP does not know",
    )


def item_never_reached_ip(
    sku: str, *, live: bool, sent_at: datetime | None, in_ip: bool, now: datetime, grace: timedelta
) -> Finding | None:
    """Sent more than `grace` ago (IP ingests nightly) and still absent from IP's variants."""
    if not live or in_ip or sent_at is None or now - sent_at < grace:
        return None
    return Finding(
        "SKU_MISMATCH", {"sku": sku, "kind": "sap_item_not_in_ip"}, {"sent_at": sent_at.isoformat()}
    )


def drift(
    sku: str,
    ip_warehouse: str,
    *,
    sap_available: float,
    ip_in_stock: float | None,
    avg_price: float,
    abs_tolerance: float,
    pct_tolerance: float,
) -> Finding | None:
    """Beyond tolerance only when both the absolute and the relative difference exceed theirs:
    a 1-unit gap on 3 units is noise in absolute terms, 40 on 10,000 is noise in relative ones."""
    if ip_in_stock is None:
        return None
    delta = sap_available - ip_in_stock
    base = max(abs(sap_available), abs(ip_in_stock))
    pct = 100.0 * abs(delta) / base if base else 0.0
    if abs(delta) <= abs_tolerance or pct <= pct_tolerance:
        return None
    return Finding(
        "STOCK_DRIFT",
        {"sku": sku, "warehouse": ip_warehouse},
        {
            "sap_available": sap_available,
            "ip_in_stock": ip_in_stock,
            "difference": delta,
            "percent": round(pct, 2),
            "value_at_cost": round(abs(delta) * avg_price, 2),
        },
    )


def sync_lag(
    stream: str, last_success_at: datetime | None, now: datetime, threshold: timedelta
) -> Finding | None:
    if last_success_at is not None and now - last_success_at <= threshold:
        return None
    age = None if last_success_at is None else int((now - last_success_at).total_seconds())
    return Finding(
        "SYNC_LAG",
        {"stream": stream},
        {
            "last_success_at": last_success_at.isoformat() if last_success_at else None,
            "age_seconds": age,
            "threshold_seconds": int(threshold.total_seconds()),
        },
    )


def feed_cutoff(now: datetime, zone: str, nightly_at: str, lead_minutes: int) -> datetime:
    """The latest cut-off at or before `now`: IP's nightly sync (account time) minus the lead."""
    tz = ZoneInfo(zone)
    hour, minute = (int(p) for p in nightly_at.split(":", 1))
    local = now.astimezone(tz)
    cutoff = local.replace(hour=hour, minute=minute, second=0, microsecond=0) - timedelta(
        minutes=lead_minutes
    )
    if cutoff > local:
        cutoff -= timedelta(days=1)
    return cutoff.astimezone(now.tzinfo)


def feed_deadline(
    cutoff: datetime, *, queued_before_cutoff: int, last_full_success_at: datetime | None
) -> Finding | None:
    """Missed when files made before the cut-off were still queued, or no full run succeeded in
    the day before it (an idle day writes no incremental file, so silence alone is no miss)."""
    stale_full = last_full_success_at is None or not (
        cutoff - timedelta(days=1) < last_full_success_at <= cutoff
    )
    if not queued_before_cutoff and not stale_full:
        return None
    return Finding(
        "FEED_DEADLINE_MISSED",
        {"feed": "advanced", "date": cutoff.date().isoformat()},
        {
            "cutoff": cutoff.isoformat(),
            "queued_files": queued_before_cutoff,
            "last_full_success_at": last_full_success_at.isoformat() if last_full_success_at else None,
        },
    )

"""Posting periods (OFPR) and the CompanyService actions that expose them (reference §9).

Seeded: one period category per calendar year, monthly periods from 24 months back to 12 months
ahead of today; `locked_months_ago` (default 3) is ltLocked. Outside that window there is no
period, so a document dated there fails with -5002 "deviates from the defined range".
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from app.emulators.sap_b1.errors import DATE_OUT_OF_RANGE, PERIOD_LOCKED, SLError

Row = dict[str, Any]
STATUSES = ("ltUnlocked", "ltUnlockedExceptSales", "ltPeriodClosing", "ltLocked")


def _shift(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def seed_periods(today: date, locked_months_ago: int) -> tuple[list[Row], list[Row]]:
    """Returns (categories, periods)."""
    first = _shift(today.replace(day=1), -24)
    locked = _shift(today.replace(day=1), -locked_months_ago) if locked_months_ago > 0 else None
    periods = [_period(i + 1, _shift(first, i), locked) for i in range(37)]
    years = sorted({p["_year"] for p in periods})
    categories = [_category(i + 1, year) for i, year in enumerate(years)]
    for period in periods:
        period["_category"] = years.index(period.pop("_year")) + 1
    return categories, periods


def _period(entry: int, start: date, locked: date | None) -> Row:
    end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    code = f"{start.year}-{start.month:02d}"
    status = "ltLocked" if start == locked else "ltUnlocked"
    window = {"From": start.isoformat(), "To": end.isoformat()}
    return {
        "AbsoluteEntry": entry,
        "PeriodCode": code,
        "PeriodName": code,
        "PostingDateFrom": window["From"],
        "PostingDateTo": window["To"],
        "ValueDateFrom": window["From"],
        "ValueDateTo": _shift(start, 12).isoformat(),
        "TaxDateFrom": window["From"],
        "TaxDateTo": window["To"],
        "ActiveforFeed": "tNO",
        "Locked": "tYES" if status == "ltLocked" else "tNO",
        "AdditionalSubPeriods": "tNO",
        "PeriodIndicator": "Default",
        "SubNum": start.month,
        "PeriodStatus": status,
        "_year": start.year,
    }


def _category(entry: int, year: int) -> Row:
    return {
        "AbsoluteEntry": entry,
        "BeginningofFinancialYear": f"{year}-01-01",
        "PeriodCategoryProperty": str(year),
        "SubPeriodType": "spt_Months",
        "NumberOfPeriods": 12,
        "PeriodName": str(year),
    }


def public(period: Row) -> Row:
    return {k: v for k, v in period.items() if not k.startswith("_")}


def period_for(periods: list[Row], doc_date: str) -> Row:
    """The period a DocDate posts into; -5002 outside every window, -4013 if locked."""
    for period in periods:
        if period["PostingDateFrom"] <= doc_date <= period["PostingDateTo"]:
            if period["PeriodStatus"] == "ltLocked":
                raise SLError(400, -4013, PERIOD_LOCKED)
            return period
    raise SLError(400, -5002, DATE_OUT_OF_RANGE)

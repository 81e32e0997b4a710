"""Posting periods (OFPR) through the CompanyService actions; there is no period entity set.

Writes check `DocDate` against these before posting, because a document dated in a locked period
fails with -4013 and must go to finance (or to the first open date, by policy), never be retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from app.integrations.sap_b1.schemas import SapModel, sap_date

if TYPE_CHECKING:
    from app.integrations.sap_b1.client import SapB1Client


class PeriodStatus(StrEnum):
    unlocked = "ltUnlocked"  # all postings
    unlocked_except_sales = "ltUnlockedExceptSales"  # all but A/R: purchasing and stock still post
    closing = "ltPeriodClosing"  # only users with period-closing authorization
    locked = "ltLocked"  # none

    @classmethod
    def _missing_(cls, value: object) -> PeriodStatus | None:
        # Enums may arrive by value (0..3) instead of name.
        names = {"0": cls.unlocked, "1": cls.unlocked_except_sales, "2": cls.closing, "3": cls.locked}
        return names.get(str(value))


# What b1bridge posts (purchasing, stock) is allowed in these; `closing` depends on the SAP user's
# authorization, which we cannot see, so it is treated as closed.
POSTABLE = frozenset({PeriodStatus.unlocked, PeriodStatus.unlocked_except_sales})


class FinancePeriod(SapModel):
    absolute_entry: int
    period_code: str | None = None
    period_name: str | None = None
    status: PeriodStatus = Field(alias="PeriodStatus")
    posting_date_from: date
    posting_date_to: date
    tax_date_from: date | None = None
    tax_date_to: date | None = None
    value_date_from: date | None = None
    value_date_to: date | None = None
    category: int | None = None

    _dates = field_validator("posting_date_from", "posting_date_to", "tax_date_from", "tax_date_to",
                             "value_date_from", "value_date_to", mode="before")(sap_date)

    def covers(self, day: date) -> bool:
        return self.posting_date_from <= day <= self.posting_date_to

    @property
    def postable(self) -> bool:
        return self.status in POSTABLE


class PostingPeriods:
    """A loaded set of periods (cache it; periods change when finance closes a month)."""

    def __init__(self, periods: Iterable[FinancePeriod]) -> None:
        self.periods = sorted(periods, key=lambda p: p.posting_date_from)

    def period_for(self, day: date) -> FinancePeriod | None:
        return next((p for p in self.periods if p.covers(day)), None)

    def is_open(self, day: date) -> bool:
        period = self.period_for(day)
        return period is not None and period.postable

    def first_open_date_on_or_after(self, day: date) -> date | None:
        """`day` itself when open, else the first day of the next postable period; None if none."""
        for period in self.periods:
            if period.posting_date_to < day or not period.postable:
                continue
            return max(day, period.posting_date_from)
        return None


def _rows(data: Any) -> list[dict[str, Any]]:
    """Collections come as `{"value": [...]}`; a single entity comes bare."""
    if isinstance(data, dict) and isinstance(data.get("value"), list):
        return data["value"]
    if isinstance(data, list):
        return data
    return [data] if isinstance(data, dict) else []


async def get_period_categories(client: SapB1Client) -> list[dict[str, Any]]:
    return _rows(await client.get_json("CompanyService_GetPeriods"))


async def get_finance_periods(client: SapB1Client, category: int) -> list[FinancePeriod]:
    data = await client.read_action("CompanyService_GetFinancePeriods",
                                    {"PeriodCategoryParams": {"AbsoluteEntry": category}})
    return [FinancePeriod.model_validate({**row, "category": category}) for row in _rows(data)]


async def get_finance_period(client: SapB1Client, absolute_entry: int) -> FinancePeriod:
    data = await client.read_action("CompanyService_GetFinancePeriod",
                                    {"FinancePeriodParams": {"AbsoluteEntry": absolute_entry}})
    return FinancePeriod.model_validate(_rows(data)[0])


async def load_periods(client: SapB1Client) -> PostingPeriods:
    """Every finance period of every category (fiscal year)."""
    categories = await get_period_categories(client)
    per_category = await asyncio.gather(*(get_finance_periods(client, int(c["AbsoluteEntry"]))
                                          for c in categories))
    return PostingPeriods(p for group in per_category for p in group)

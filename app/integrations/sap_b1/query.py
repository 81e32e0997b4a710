"""A small OData query builder: values are always formatted and quoted here, never by callers.

`F("ItemCode") == "O'Brien"` renders `ItemCode eq 'O''Brien'`: OData escapes a single quote by
doubling it, so a hostile ItemCode can neither break the filter nor inject another clause.
Field names are checked against an identifier pattern for the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")


def field_name(name: str) -> str:
    if not _FIELD.match(name):
        raise ValueError(f"not an OData property name: {name!r}")
    return name


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def literal(value: Any) -> str:
    """Format a Python value as an OData literal the Service Layer accepts."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # SAP booleans are the enum BoYesNoEnum, not Edm.Boolean
        return quote("tYES" if value else "tNO")
    if isinstance(value, Enum):
        return literal(value.value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):  # the SL ignores the time part of dates anyway
        return quote(value.strftime("%Y-%m-%dT%H:%M:%S"))
    if isinstance(value, date):
        return quote(value.isoformat())
    if isinstance(value, time):  # only hours and minutes are compared by the SL
        return quote(value.strftime("%H:%M:%S"))
    if isinstance(value, str):
        return quote(value)
    raise TypeError(f"cannot format {type(value).__name__} as an OData literal")


@dataclass(frozen=True, slots=True)
class Expr:
    """A rendered boolean expression; combine with `&`, `|` and `~`."""

    text: str

    def __and__(self, other: Expr) -> Expr:
        return Expr(f"({self.text}) and ({other.text})")

    def __or__(self, other: Expr) -> Expr:
        return Expr(f"({self.text}) or ({other.text})")

    def __invert__(self) -> Expr:
        return Expr(f"not ({self.text})")

    def __str__(self) -> str:
        return self.text


class F:
    """A property reference: `F("UpdateDate") >= date(2025, 1, 1)`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = field_name(name)

    def _cmp(self, op: str, value: Any) -> Expr:
        return Expr(f"{self.name} {op} {literal(value)}")

    def __eq__(self, value: Any) -> Expr:  # type: ignore[override]
        return self._cmp("eq", value)

    def __ne__(self, value: Any) -> Expr:  # type: ignore[override]
        return self._cmp("ne", value)

    def __gt__(self, value: Any) -> Expr:
        return self._cmp("gt", value)

    def __ge__(self, value: Any) -> Expr:
        return self._cmp("ge", value)

    def __lt__(self, value: Any) -> Expr:
        return self._cmp("lt", value)

    def __le__(self, value: Any) -> Expr:
        return self._cmp("le", value)

    __hash__ = None  # type: ignore[assignment]

    def startswith(self, prefix: str) -> Expr:
        return Expr(f"startswith({self.name}, {literal(prefix)})")

    def contains(self, text: str) -> Expr:
        return Expr(f"contains({self.name}, {literal(text)})")

    def isin(self, values: Iterable[Any]) -> Expr:
        """`A eq 1 or A eq 2`: the SL has no `in` operator."""
        parts = [f"{self.name} eq {literal(v)}" for v in values]
        if not parts:
            raise ValueError("isin() needs at least one value")
        return Expr(" or ".join(parts) if len(parts) == 1 else "(" + " or ".join(parts) + ")")


def all_of(*exprs: Expr | None) -> Expr | None:
    present = [e for e in exprs if e is not None]
    if not present:
        return None
    result = present[0]
    for expr in present[1:]:
        result = result & expr
    return result


def eq_all(values: Mapping[str, Any]) -> Expr | None:
    """`{"CardCode": "V1", "DocumentStatus": "bost_Open"}` → both equalities, and-ed."""
    return all_of(*(F(k) == v for k, v in values.items()))


def params(*, filter: Expr | str | None = None, select: Iterable[str] | None = None,
           orderby: Iterable[str] | str | None = None, top: int | None = None,
           skip: int | None = None) -> dict[str, str]:
    """Query-string parameters. A str `filter` is taken verbatim: build it with `F` unless it is
    a constant."""
    out: dict[str, str] = {}
    if filter is not None:
        out["$filter"] = str(filter)
    if select:
        out["$select"] = ",".join(field_name(s) for s in select)
    if orderby:
        items = orderby.split(",") if isinstance(orderby, str) else orderby
        out["$orderby"] = ",".join(_order(o.strip()) for o in items)
    if top is not None:
        out["$top"] = str(int(top))
    if skip is not None:
        out["$skip"] = str(int(skip))
    return out


def _order(item: str) -> str:
    name, _, direction = item.partition(" ")
    if direction and direction not in ("asc", "desc"):
        raise ValueError(f"bad $orderby direction: {item!r}")
    return field_name(name) + (f" {direction}" if direction else "")

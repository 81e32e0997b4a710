"""List queries as IP answers them (reference §5): filters, `<field>_sort`, 0-based paging, fields.

Filters and sorts run on the stored records (dates as timestamps, so `last_modified_gt` compares
instants); `fields` projects the rendered records.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from app.emulators.inventory_planner import dates

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "_ne": lambda a, b: a != b,
    "_gte": lambda a, b: a >= b,
    "_gt": lambda a, b: a > b,
    "_lte": lambda a, b: a <= b,
    "_lt": lambda a, b: a < b,
}
RESERVED = frozenset({"page", "limit", "fields"})
DATE_FIELDS = frozenset(
    {
        "expected_date",
        "created_date",
        "payment_date",
        "shipment_date",
        "received_date",
        "last_modified",
        "created_at",
        "updated_at",
    }
)
SUB_LISTS = ("items", "warehouse")  # a bare field not on the record is looked up in these


@dataclass
class Filter:
    name: str
    op: str  # "" for equality
    value: str


@dataclass
class ListQuery:
    page: int = 0
    limit: int = 100
    fields: list[str] | None = None
    filters: list[Filter] = field(default_factory=list)
    sorts: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)


def parse(params: Iterable[tuple[str, str]], default_limit: int) -> ListQuery:
    query = ListQuery(limit=default_limit)
    for key, value in params:
        if key == "page":
            query.page = max(int(value), 0)
        elif key == "limit":
            query.limit = int(value)
        elif key == "fields":
            query.fields = [f.strip() for f in value.split(",") if f.strip()]
        elif key.endswith("_sort"):
            query.sorts.append((key[: -len("_sort")], value.strip().lower() == "desc"))
        else:
            query.filters.append(_filter(key, value))
    return query


def _filter(key: str, value: str) -> Filter:
    for suffix in OPERATORS:
        if key.endswith(suffix):
            return Filter(key[: -len(suffix)], suffix, value)
    return Filter(key, "", value)


def values_at(record: dict[str, Any], name: str) -> list[Any]:
    """The values a filter on `name` sees: a top-level field, a dot path, or a sub-list field."""
    head, _, rest = name.partition(".")
    if rest:
        return [row.get(rest) for row in record.get(head) or [] if isinstance(row, dict)]
    if name in record:
        return [record[name]]
    for sub in SUB_LISTS:
        rows = record.get(sub)
        if isinstance(rows, list) and rows and isinstance(rows[0], dict) and name in rows[0]:
            return [row.get(name) for row in rows]
    return []


def _coerce(name: str, stored: Any, wanted: str) -> tuple[Any, Any]:
    """Compare like with like: numbers as numbers, dates as instants, text case-insensitively."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf in DATE_FIELDS and isinstance(stored, int | float):
        return stored, dates.parse_any(wanted)
    if isinstance(stored, bool):
        return stored, wanted.strip().lower() in {"true", "1"}
    if isinstance(stored, int | float):
        try:
            return float(stored), float(wanted)
        except ValueError:
            return str(stored), wanted
    return str(stored).lower(), wanted.lower()


def matches(record: dict[str, Any], flt: Filter) -> bool:
    values = [v for v in values_at(record, flt.name) if v is not None]
    if flt.op == "_ne":
        return all(_compare(flt, v) for v in values)
    return any(_compare(flt, v) for v in values)


def _compare(flt: Filter, stored: Any) -> bool:
    try:
        left, right = _coerce(flt.name, stored, flt.value)
        return left == right if not flt.op else OPERATORS[flt.op](left, right)
    except (TypeError, ValueError):
        return False


def apply(records: list[dict[str, Any]], query: ListQuery) -> list[dict[str, Any]]:
    rows = [r for r in records if all(matches(r, f) for f in query.filters)]
    for name, descending in reversed(query.sorts):  # stable sorts: the first key applied last
        rows.sort(key=functools.partial(_sort_key, name=name), reverse=descending)
    return rows


def _sort_key(record: dict[str, Any], *, name: str) -> tuple[int, Any]:
    values = values_at(record, name)
    value = values[0] if values else None
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, float(value))
    return (2, str(value).lower())


def page(rows: list[dict[str, Any]], query: ListQuery) -> tuple[list[dict[str, Any]], dict[str, int]]:
    start = query.page * query.limit
    chunk = rows[start : start + query.limit]
    # start/end are unconfirmed (reference §5): 0-based index of the first row and one past the last.
    return chunk, {
        "total": len(rows),
        "count": len(chunk),
        "limit": query.limit,
        "page": query.page,
        "start": start,
        "end": start + len(chunk),
    }


def project(
    record: dict[str, Any], fields: list[str] | None, ids_only: dict[str, str] | None = None
) -> dict[str, Any]:
    """`fields` is an allowlist; `items.x` keeps x of each item. `ids_only` maps a sub-list to its id
    key for the quirk where asking `warehouse.x` returned only the ids (reference §5)."""
    if not fields:
        return record
    out: dict[str, Any] = {}
    subs: dict[str, list[str]] = {}
    for name in fields:
        head, _, rest = name.partition(".")
        if rest:
            subs.setdefault(head, []).append(rest)
        elif name in record:
            out[name] = record[name]
    for head, keys in subs.items():
        if head in out or not isinstance(record.get(head), list):
            continue
        keep = [ids_only[head]] if ids_only and head in ids_only else keys
        out[head] = [{k: row[k] for k in keep if k in row} for row in record[head]]
    return out

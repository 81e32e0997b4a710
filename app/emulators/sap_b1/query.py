"""Query options and paging over an EntityTable (reference §4, §5).

Paging is by `$skip` over live data (inserts mid-traversal shift rows, as on a real SL) and costs
O(page): unfiltered key-ordered reads slice the key list, `Key gt 'x'` filters bisect into it, and
other filters reuse the match list cached until the table's next write.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from urllib.parse import quote

from app.emulators.sap_b1.errors import SLError, bad_query
from app.emulators.sap_b1.odata_filter import Compiled, compile_filter
from app.emulators.sap_b1.table import EntityTable

Resolver = Callable[[str], tuple[str, dict[str, str]]]
_INLINE = {"ItemWarehouseInfoCollection", "DocumentLines", "StockTransferLines", "ProductionOrderLines"}
_REPEATED = ("$filter", "$select", "$orderby")


@dataclass
class QueryOptions:
    compiled: Compiled | None = None
    select: list[str] | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    top: int | None = None
    skip: int = 0
    count: bool = False
    ci: bool = False  # B1S-CaseInsensitive (reference §3)
    raw: dict[str, str] = field(default_factory=dict)  # as sent, repeated in nextLinks


@dataclass
class Page:
    keys: list[Any]
    next_link: str | None
    count: int | None


def parse_options(params: Mapping[str, str], resolve: Resolver, key: str, ci: bool = False) -> QueryOptions:
    if "$expand" in params:
        # Inline collections are not navigation properties (reference §4, LOG): 400 / 201.
        raise bad_query(f"Invalid $expand: '{params['$expand']}' is not a navigation property")
    opts = QueryOptions(ci=ci, raw={k: params[k] for k in _REPEATED if k in params})
    if params.get("$filter"):
        opts.compiled = compile_filter(params["$filter"], resolve, key, ci)
    opts.select = _select(params.get("$select"), resolve)
    opts.orderby = _orderby(params.get("$orderby"), resolve)
    opts.top = _int(params, "$top")
    opts.skip = _int(params, "$skip") or 0
    opts.count = params.get("$count", "").lower() == "true" or params.get("$inlinecount") == "allpages"
    return opts


def _select(text: str | None, resolve: Resolver) -> list[str] | None:
    if not text or text.strip() == "*":
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        resolve(name)
    return names


def _orderby(text: str | None, resolve: Resolver) -> list[tuple[str, bool]]:
    keys = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in {"asc", "desc"}):
            raise bad_query(f"Invalid $orderby '{part.strip()}'")
        kind, _enum = resolve(words[0])
        if kind == "coll":
            raise SLError(400, -1000, f"Cannot order by collection property '{words[0]}'")
        keys.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return keys


def _int(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        value = int(params[name])
    except ValueError:
        raise SLError(400, -1000, f"Invalid value '{params[name]}' for {name}")
    if value < 0:
        raise SLError(400, -1000, f"Invalid value '{params[name]}' for {name}")
    return value


# --- execution -----------------------------------------------------------------------------------


def run_page(table: EntityTable, opts: QueryOptions, page_size: int, path: str) -> Page:
    limit = page_size if page_size > 0 else None
    if opts.top is not None:
        limit = opts.top if limit is None else min(limit, opts.top)
    keys = _window(table, opts, limit)
    count = len(matching(table, opts)) if opts.count else None
    return Page(keys, _next_link(path, opts, keys, limit, page_size), count)


def _window(table: EntityTable, opts: QueryOptions, limit: int | None) -> list[Any]:
    end = None if limit is None else opts.skip + limit
    key_order = _key_ordered(table, opts)
    if opts.compiled is None and key_order is not None:
        keys = table.keys if not key_order else _reversed(table.keys)
        return list(islice(keys, opts.skip, end))
    compiled = opts.compiled
    if compiled and compiled.key_set is None and compiled.key_bound and key_order is False and not opts.skip:
        return list(islice(_scan_from_bound(table, compiled), 0, limit))
    return list(matching(table, opts)[opts.skip : end])


def _reversed(keys: list[Any]) -> Iterator[Any]:
    return reversed(keys)


def _key_ordered(table: EntityTable, opts: QueryOptions) -> bool | None:
    """False: ascending key order (the default), True: descending, None: another order."""
    if not opts.orderby:
        return False
    if len(opts.orderby) == 1 and opts.orderby[0][0] == table.etype.key:
        return opts.orderby[0][1]
    return None


def _scan_from_bound(table: EntityTable, compiled: Compiled) -> Iterator[Any]:
    op, value = compiled.key_bound or ("ge", None)
    keys = table.keys
    start = bisect.bisect_right(keys, value) if op == "gt" else bisect.bisect_left(keys, value)
    rows, predicate = table.rows, compiled.predicate
    for index in range(start, len(keys)):
        key = keys[index]
        if predicate(rows[key]):
            yield key


def matching(table: EntityTable, opts: QueryOptions) -> Sequence[Any]:
    """Every matching key in result order, cached until the table is next written."""
    if opts.compiled is None and _key_ordered(table, opts) is False:
        return table.keys
    signature = (opts.raw.get("$filter"), tuple(opts.orderby), opts.ci)
    cached = table.cached_matches(signature)
    if cached is not None:
        return cached
    keys = _filtered(table, opts.compiled)
    _sort(table, keys, opts.orderby)
    table.remember_matches(signature, keys)
    return keys


def _filtered(table: EntityTable, compiled: Compiled | None) -> list[Any]:
    if compiled is None:
        return list(table.keys)
    if compiled.key_set is not None:
        return _lookup(table, compiled)
    if compiled.key_bound:
        return list(_scan_from_bound(table, compiled))
    predicate, rows = compiled.predicate, table.rows
    return [key for key in table.keys if predicate(rows[key])]


def _lookup(table: EntityTable, compiled: Compiled) -> list[Any]:
    """Rows of a key-pinned filter by key, in key order: O(keys), not O(table) — a 100-code
    `ItemCode eq … or …` request over 100k items no longer tests every item 100 times."""
    rows, key, predicate = table.rows, table.etype.key, compiled.predicate
    found = (rows.get(value) for value in compiled.key_set or ())
    # The row's own key, not the literal: `DocEntry eq 5` compiles to 5.0, which finds key 5.
    return sorted(row[key] for row in found if row is not None and predicate(row))


def _sort(table: EntityTable, keys: list[Any], orderby: list[tuple[str, bool]]) -> None:
    for name, descending in reversed(orderby):  # stable sorts, last key first
        keys.sort(key=_sort_key(table.rows, name), reverse=descending)


def _sort_key(rows: dict[Any, Any], name: str) -> Callable[[Any], tuple[int, Any]]:
    return lambda key: _sort_value(rows[key].get(name))


def _sort_value(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)


def _next_link(
    path: str, opts: QueryOptions, keys: list[Any], limit: int | None, page_size: int
) -> str | None:
    """Relative `$skip` link repeating the options (reference §5, LOG). A full page always gets a
    link, even when nothing follows: that link then returns an empty value list."""
    if page_size <= 0 or limit is None or len(keys) < limit:
        return None
    remaining = None if opts.top is None else opts.top - len(keys)
    if remaining == 0:
        return None  # $top satisfied: the SL ends here
    parts = [f"{name}={_encode(opts.raw[name])}" for name in _REPEATED if name in opts.raw]
    if remaining is not None:
        parts.append(f"$top={remaining}")
    parts.append(f"$skip={opts.skip + len(keys)}")
    return f"{path}?{'&'.join(parts)}"


def _encode(value: str) -> str:
    return quote(value, safe="'(),/:$*=@")

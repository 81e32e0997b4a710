"""`$crossjoin(Items,Items/ItemWarehouseInfoCollection)`: stock per warehouse without whole items
(reference §4). Only this pair is emulated; each result is one (item, OITW row) pair.

Paging relies on every item having one OITW row per warehouse (SAP adds them, and so does the
emulator), so `$skip` maps to an item index arithmetically and a page stays O(page).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from app.emulators.sap_b1 import schema
from app.emulators.sap_b1.errors import SLError, bad_query
from app.emulators.sap_b1.odata_filter import compile_filter
from app.emulators.sap_b1.responses import annotation, context_url, json_response

if TYPE_CHECKING:
    from app.emulators.sap_b1.odata_filter import Predicate
    from app.emulators.sap_b1.store import SapStore

Row = dict[str, Any]
SETS = "Items,Items/ItemWarehouseInfoCollection"
WHS = "Items/ItemWarehouseInfoCollection"
_JOIN = re.compile(r"Items/ItemCode\s+eq\s+Items/ItemWarehouseInfoCollection/ItemCode")
_EXPAND_PART = re.compile(r"(Items(?:/ItemWarehouseInfoCollection)?)\(\$select=([^)]*)\)")
_WHS_FIELDS = {name: "num" for name in schema.WAREHOUSE_ROW_FIELDS} | {
    "WarehouseCode": "str",
    "ItemCode": "str",
    "Locked": "enum",
}


def handle(store: SapStore, request: Request, version: str, path: str) -> Response:
    if path.replace(" ", "") != f"$crossjoin({SETS})":
        raise SLError(400, -1000, "Only $crossjoin(Items,Items/ItemWarehouseInfoCollection) is emulated")
    params = request.query_params
    if "$expand" not in params:
        raise SLError(400, -1000, "$crossjoin requires $expand")  # bare $crossjoin → -1000 (§4)
    selects = _expand(params["$expand"])
    predicate = _filter(store, params.get("$filter", ""))
    size = _size(store, request)
    skip = int(params.get("$skip", "0") or 0)
    rows = list(islice(_pairs(store, skip, predicate), size if size > 0 else None))
    return _response(request, version, params, rows, selects, skip, size)


def _expand(text: str) -> dict[str, list[str]]:
    parts = {
        name: [f.strip() for f in fields.split(",") if f.strip()]
        for name, fields in _EXPAND_PART.findall(text)
    }
    if set(parts) != {"Items", WHS}:
        raise bad_query("Invalid $expand for $crossjoin")
    return parts


def _filter(store: SapStore, text: str) -> Predicate | None:
    """The join condition is mandatory; anything AND-ed to it filters the pairs."""
    if not _JOIN.search(text):
        raise SLError(400, -1000, "$crossjoin requires the join condition in $filter")
    rest = _JOIN.sub("", text, count=1).strip()
    rest = re.sub(r"^and\s+|\s+and$", "", rest).strip()
    if not rest:
        return None
    item_resolve = store.resolver(schema.ITEMS)

    def resolve(name: str) -> tuple[str, dict[str, str]]:
        if name.startswith(WHS + "/") and name[len(WHS) + 1 :] in _WHS_FIELDS:
            return _WHS_FIELDS[name[len(WHS) + 1 :]], schema.YES_NO
        if name.startswith("Items/"):
            return item_resolve(name[len("Items/") :])
        raise SLError(400, -1000, f"Property '{name}' is invalid")

    return compile_filter(rest, resolve).predicate


def _size(store: SapStore, request: Request) -> int:
    match = re.search(r"odata\.maxpagesize\s*=\s*(\d+)", request.headers.get("prefer", ""))
    return int(match.group(1)) if match else store.config.default_page_size


def _pairs(store: SapStore, skip: int, predicate: Predicate | None) -> Iterator[tuple[Row, Row]]:
    table = store.table("Items")
    per_item = max(1, len(store.table("Warehouses")))
    start, drop = (skip // per_item, skip % per_item) if predicate is None else (0, skip)
    produced = 0
    for key in islice(table.keys, start, None):
        item = table.rows[key]
        for row in item["ItemWarehouseInfoCollection"]:
            if predicate is not None and not predicate(_flat(item, row)):
                continue
            produced += 1
            if produced > drop:
                yield item, row


def _flat(item: Row, row: Row) -> Row:
    flat = {f"Items/{k}": v for k, v in item.items() if k != "ItemWarehouseInfoCollection"}
    flat.update({f"{WHS}/{k}": v for k, v in row.items()})
    return flat


def _response(
    request: Request,
    version: str,
    params: Any,
    rows: list[tuple[Row, Row]],
    selects: dict[str, list[str]],
    skip: int,
    size: int,
) -> Response:
    value = [
        {"Items": {f: item.get(f) for f in selects["Items"]}, WHS: {f: row.get(f) for f in selects[WHS]}}
        for item, row in rows
    ]
    meta = "odata.metadata" if version == "v1" else "@odata.context"
    body: Row = {meta: context_url(request, version, "Collection(Edm.ComplexType)"), "value": value}
    if size > 0 and len(rows) == size:
        repeated = "&".join(f"{k}={params[k]}" for k in ("$expand", "$filter") if k in params)
        body[annotation(version, "nextLink")] = f"$crossjoin({SETS})?{repeated}&$skip={skip + len(rows)}"
    return json_response(version, json.dumps(body, separators=(",", ":")).encode())

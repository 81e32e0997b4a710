"""The Service Layer surface: one dispatcher under /b1s/v1 and /b1s/v2 (reference §1–§11).

Paths are parsed here rather than by the framework router because OData keys live inside the
path segment (`Items('A''1')`, `PurchaseOrders(22)/Close`).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.emulators.sap_b1 import crossjoin, documents, faults, masterdata, periods, schema
from app.emulators.sap_b1.errors import INVALID_SESSION, LOGIN_FAILED, SLError, render_error
from app.emulators.sap_b1.query import matching, parse_options, run_page
from app.emulators.sap_b1.responses import (
    collection_response,
    context,
    entity_response,
    json_response,
)
from app.emulators.sap_b1.schema import EntityType
from app.emulators.sap_b1.store import SapStore
from app.emulators.sap_b1.table import etag_of

Row = dict[str, Any]
_PATH = re.compile(r"^(?P<set>[A-Za-z_]\w*)(?:\((?P<key>.*)\))?(?:/(?P<tail>[$\w]+))?$")
_MAXPAGESIZE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)")
_WRITES = {"POST", "PATCH", "PUT", "DELETE"}
_COMPANY_SERVICE = {
    "CompanyService_GetPeriods",
    "CompanyService_GetFinancePeriods",
    "CompanyService_GetFinancePeriod",
}


async def handle(store: SapStore, request: Request, version: str, path: str) -> Response:
    if version not in {"v1", "v2"}:
        return Response("Not Found", status_code=404)
    store.stats.requests[_route_label(request.method, path)] += 1
    store.inflight_requests += 1
    try:
        early = await faults.before_request(store)
        if early is not None:
            return early
        response = await _dispatch(store, request, version, path)
        if request.method in _WRITES and path not in {"Login", "Logout"}:
            response = faults.drop_after_commit(store, response)
        return response
    except SLError as exc:
        return render_error(version, exc)
    finally:
        store.inflight_requests -= 1


def _route_label(method: str, path: str) -> str:
    match = _PATH.match(path)
    if not match:
        return f"{method} {path.split('?')[0][:40]}"
    label = match["set"] + ("(key)" if match["key"] is not None else "")
    return f"{method} {label}" + (f"/{match['tail']}" if match["tail"] else "")


async def _dispatch(store: SapStore, request: Request, version: str, path: str) -> Response:
    if path == "Login" and request.method == "POST":
        return await login(store, request, version)
    session_id = _authenticate(store, request)
    if path == "Logout" and request.method == "POST":
        store.sessions.drop(session_id)
        store.stats.logouts += 1
        return Response(status_code=204)
    if request.method in _WRITES:
        faults.check_deadlock(store)
    if path.startswith("$crossjoin("):
        return crossjoin.handle(store, request, version, path)
    if path in _COMPANY_SERVICE:
        return await _company_service(store, request, version, path)
    if path == "$metadata":
        return Response(
            '<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0"/>', media_type="application/xml"
        )
    return await _entity_route(store, request, version, path)


# --- sessions ----------------------------------------------------------------------------------


async def login(store: SapStore, request: Request, version: str) -> Response:
    body = await _json(request)
    store.inflight_logins += 1
    try:
        # Checked on arrival, answered after the heavy part: concurrent logins overlap (§2).
        overloaded = store.inflight_logins > store.config.max_parallel_logins
        await asyncio.sleep(store.config.login_delay_ms / 1000)
        if overloaded:
            store.stats.login_failures["299"] += 1
            raise SLError(500, 299, "SAML Login Failed")
        _check_credentials(store, body)
    finally:
        store.inflight_logins -= 1
    return _login_response(store, request, version)


def _check_credentials(store: SapStore, body: Row) -> None:
    cfg = store.config
    if body.get("CompanyDB") != cfg.company_db:
        store.stats.login_failures["-306"] += 1
        raise SLError(401, -306, LOGIN_FAILED)
    if body.get("UserName") != cfg.username or body.get("Password") != cfg.password:
        store.stats.login_failures["-304"] += 1
        raise SLError(401, -304, LOGIN_FAILED)


def _login_response(store: SapStore, request: Request, version: str) -> Response:
    session_id = store.sessions.create()
    store.stats.logins += 1
    name, url = context(request, version, "B1Sessions", entity=True)
    minutes = max(1, math.ceil(store.config.session_timeout_s / 60))  # SessionTimeout is in minutes
    body = {name: url, "SessionId": session_id, "Version": store.config.version, "SessionTimeout": minutes}
    response = json_response(version, body)
    # Exactly as a real SL: B1SESSION has no Path and a trailing ';' (reference §2, §13).
    response.raw_headers.append((b"set-cookie", f"B1SESSION={session_id};HttpOnly;".encode()))
    response.raw_headers.append((b"set-cookie", f"ROUTEID=.{store.config.node}; path=/b1s".encode()))
    return response


def _authenticate(store: SapStore, request: Request) -> str:
    session_id = request.cookies.get("B1SESSION", "")
    if not store.sessions.touch(session_id):
        raise SLError(401, 301, INVALID_SESSION)
    faults.check_session_faults(store, session_id)
    return session_id


# --- helpers -----------------------------------------------------------------------------------


async def _json(request: Request) -> Row:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise SLError(400, -1000, "Invalid JSON body")
    if not isinstance(data, dict):
        raise SLError(400, -1000, "Invalid JSON body")
    return data


def _page_size(store: SapStore, request: Request) -> tuple[int, bool]:
    """`Prefer: odata.maxpagesize=N` (echoed in Preference-Applied), else B1S-PageSize, else 20."""
    match = _MAXPAGESIZE.search(request.headers.get("prefer", ""))
    if match:
        return int(match.group(1)), True
    if request.headers.get("b1s-pagesize", "").isdigit():
        return int(request.headers["b1s-pagesize"]), False
    return store.config.default_page_size, False


def parse_key(etype: EntityType, text: str) -> Any:
    text = text.strip()
    if etype.int_key:
        try:
            return int(text)
        except ValueError:
            raise SLError(400, -1000, f"Invalid key '{text}' for '{etype.set_name}'")
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    raise SLError(400, -1000, f"Invalid key '{text}' for '{etype.set_name}'")


def _udf_key(store: SapStore, text: str) -> int:
    """UserFieldsMD(TableName='OPOR',FieldID=0)."""
    parts = dict(p.split("=", 1) for p in text.split(",") if "=" in p)
    table = parts.get("TableName", "").strip("'")
    field_id = parts.get("FieldID", "-1")
    for key, row in store.table("UserFieldsMD").rows.items():
        if row["TableName"] == table and str(row["FieldID"]) == field_id.strip():
            return int(key)
    raise SLError(404, -2028, "No matching records found (ODBC -2028)")


def _location(request: Request, version: str, etype: EntityType, key: Any) -> str:
    literal = str(key) if etype.int_key else "'" + str(key).replace("'", "''") + "'"
    return f"{request.url.scheme}://{request.url.netloc}/b1s/{version}/{etype.set_name}({literal})"


def _check_if_match(request: Request, etype: EntityType, row: Row) -> None:
    """Only weak W/"…" values are checked; anything else is ignored and the write proceeds (§7)."""
    if_match = request.headers.get("if-match", "")
    if etype.etag and if_match.startswith('W/"') and if_match != etag_of(row):
        raise SLError(
            412,
            -2039,
            "Another user or another operation modified data; to continue, "
            "open the window again (ODBC -2039)",
        )


# --- entity sets -------------------------------------------------------------------------------


async def _entity_route(store: SapStore, request: Request, version: str, path: str) -> Response:
    match = _PATH.match(path)
    etype = schema.ALL_SETS.get(match["set"]) if match else None
    if match is None or etype is None:
        raise SLError(404, -1000, f"Resource not found for the segment '{path.split('(')[0]}'")
    key_text, tail = match["key"], match["tail"]
    if key_text is None:
        return await _collection_route(store, request, version, etype, tail)
    key = _udf_key(store, key_text) if etype.set_name == "UserFieldsMD" else parse_key(etype, key_text)
    if tail:
        return await _action(store, request, etype, key, tail)
    return await _single_route(store, request, version, etype, key)


async def _collection_route(
    store: SapStore, request: Request, version: str, etype: EntityType, tail: str | None
) -> Response:
    table = store.table(etype.set_name)
    ci = request.headers.get("b1s-caseinsensitive", "").lower() == "true"
    if tail == "$count" and request.method == "GET":
        opts = parse_options(request.query_params, store.resolver(etype), etype.key, ci)
        return Response(str(len(matching(table, opts))), media_type="text/plain")
    if tail is not None:
        raise SLError(404, -1000, f"Resource not found for the segment '{tail}'")
    if request.method == "GET":
        opts = parse_options(request.query_params, store.resolver(etype), etype.key, ci)
        size, applied = _page_size(store, request)
        page = run_page(table, opts, size, etype.set_name)
        return collection_response(request, version, table, page, opts.select, size, applied)
    if request.method == "POST":
        return await _create(store, request, version, etype)
    raise SLError(405, -5006, "The requested action is not supported for this object.")


async def _single_route(
    store: SapStore, request: Request, version: str, etype: EntityType, key: Any
) -> Response:
    table = store.table(etype.set_name)
    row = store.get(etype.set_name, key)
    if request.method == "GET":
        opts = parse_options(request.query_params, store.resolver(etype), etype.key)
        shown = {name: row.get(name) for name in opts.select} if opts.select else row
        return entity_response(request, version, table, shown, etag_row=row)
    _check_if_match(request, etype, row)
    await _write_latency(store)
    if request.method in {"PATCH", "PUT"}:
        updated = _patch(store, etype, key, await _json(request))
        headers = {"ETag": etag_of(updated)} if etype.etag else {}
        return Response(status_code=204, headers=headers)
    if request.method == "DELETE":
        _delete(store, etype, key)
        return Response(status_code=204)
    raise SLError(405, -5006, "The requested action is not supported for this object.")


def _patch(store: SapStore, etype: EntityType, key: Any, body: Row) -> Row:
    # PUT is handled as PATCH: the emulator does not reset omitted fields (a documented gap).
    store.stats.writes += 1
    if etype.set_name == "Items":
        return masterdata.patch_item(store, key, body)
    if etype.lines and etype.set_name != "ProductionOrders":
        return documents.patch(store, etype, key, body)
    return masterdata.patch_simple(store, etype, key, body)


def _delete(store: SapStore, etype: EntityType, key: Any) -> None:
    store.stats.writes += 1
    if etype.lines:
        documents.delete(store, etype, key)
        return
    store.table(etype.set_name).delete(key)


async def _action(store: SapStore, request: Request, etype: EntityType, key: Any, action: str) -> Response:
    if request.method != "POST" or etype.set_name != "PurchaseOrders" or action not in {"Close", "Cancel"}:
        raise SLError(400, -5006, "The requested action is not supported for this object.")
    _check_if_match(request, etype, store.get(etype.set_name, key))
    await _write_latency(store)
    documents.close(store, key, cancel=action == "Cancel")
    store.stats.writes += 1
    return Response(status_code=204)


async def _write_latency(store: SapStore) -> None:
    if store.faults.write_latency_ms:
        await asyncio.sleep(store.faults.write_latency_ms / 1000)


# --- create ------------------------------------------------------------------------------------


async def _create(store: SapStore, request: Request, version: str, etype: EntityType) -> Response:
    body = await _json(request)
    if etype.lines and etype.set_name != "ProductionOrders":
        row = await _post_document(store, etype, body)
    else:
        await _write_latency(store)
        row = _create_master(store, etype, body)
    store.stats.writes += 1
    table = store.table(etype.set_name)
    key = row[etype.key]
    location = {"Location": _location(request, version, etype, key)}
    if "return-no-content" in request.headers.get("prefer", ""):
        return Response(status_code=204, headers=location)
    return entity_response(request, version, table, row, status=201, headers=location)


def _create_master(store: SapStore, etype: EntityType, body: Row) -> Row:
    if etype.set_name == "Items":
        return masterdata.create_item(store, body)
    if etype.set_name == "UserFieldsMD":
        return store.create_udf(body)
    if etype.set_name == "ProductionOrders":
        return documents.create_production_order(store, body)
    row = masterdata.create_simple(store, etype, body)
    if etype.set_name == "Warehouses":
        store.add_warehouse_rows(row["WarehouseCode"])
    return row


async def _post_document(store: SapStore, etype: EntityType, body: Row) -> Row:
    """Validate, hold the OITW row locks across the write latency, re-validate, commit."""
    prepared = documents.prepare(store, etype, body)
    pairs = prepared.lock_pairs
    faults.acquire_row_locks(store, pairs)
    try:
        await _write_latency(store)
        prepared = documents.prepare(store, etype, body)  # the world may have moved meanwhile
        return documents.commit(store, prepared)
    finally:
        faults.release_row_locks(store, pairs)


# --- posting periods (§9) ------------------------------------------------------------------------


async def _company_service(store: SapStore, request: Request, version: str, path: str) -> Response:
    if path == "CompanyService_GetPeriods":
        return json_response(version, {"value": store.period_categories})
    body = await _json(request)
    if path == "CompanyService_GetFinancePeriods":
        entry = (body.get("PeriodCategoryParams") or {}).get("AbsoluteEntry")
        rows = [periods.public(p) for p in store.periods if entry is None or p["_category"] == entry]
        return json_response(version, {"value": rows})
    entry = (body.get("FinancePeriodParams") or {}).get("AbsoluteEntry")
    for period in store.periods:
        if period["AbsoluteEntry"] == entry:
            return json_response(version, periods.public(period))
    raise SLError(404, -2028, "No matching records found (ODBC -2028)")

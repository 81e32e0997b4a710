"""Response bodies in the two OData dialects (reference §1): annotations, context URLs, headers."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.emulators.sap_b1.errors import version_headers
from app.emulators.sap_b1.query import Page
from app.emulators.sap_b1.table import EntityTable, etag_of

Row = dict[str, Any]


def annotation(version: str, name: str) -> str:
    """'nextLink' → 'odata.nextLink' (v1) or '@odata.nextLink' (v2)."""
    return f"odata.{name}" if version == "v1" else f"@odata.{name}"


def context_url(request: Request, version: str, fragment: str) -> str:
    base = f"{request.url.scheme}://{request.url.netloc}"
    return f"{base}/b1s/{version}/$metadata#{fragment}"


def context(request: Request, version: str, set_name: str, entity: bool = False) -> tuple[str, str]:
    if version == "v1":
        return "odata.metadata", context_url(request, version, set_name + ("/@Element" if entity else ""))
    return "@odata.context", context_url(request, version, set_name + ("/$entity" if entity else ""))


def json_response(
    version: str, body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    return Response(
        data,
        status_code=status,
        media_type="application/json;odata=minimalmetadata;charset=utf-8"
        if version == "v1"
        else "application/json;odata.metadata=minimal;charset=utf-8",
        headers={**version_headers(version), **(headers or {})},
    )


def entity_body(
    request: Request, version: str, table: EntityTable, row: Row, etag_row: Row | None = None
) -> Row:
    name, url = context(request, version, table.etype.set_name, entity=True)
    return {name: url, **table.annotated(row, version, etag_row)}


def entity_response(
    request: Request,
    version: str,
    table: EntityTable,
    row: Row,
    status: int = 200,
    headers: dict[str, str] | None = None,
    etag_row: Row | None = None,
) -> Response:
    """`etag_row`: the full row when `row` is a $select projection (the ETag needs DataVersion)."""
    extra = dict(headers or {})
    if table.etype.etag:
        extra["ETag"] = etag_of(etag_row or row)  # the header is authoritative (reference §7)
    body = entity_body(request, version, table, row, etag_row)
    return json_response(version, body, status, extra)


def collection_response(
    request: Request,
    version: str,
    table: EntityTable,
    page: Page,
    select: list[str] | None,
    page_size: int,
    prefer_applied: bool,
) -> Response:
    """Assembled from cached per-row JSON so a 500-row page costs a join, not a dumps."""
    name, url = context(request, version, table.etype.set_name)
    head = {name: url}
    if page.count is not None:
        head[annotation(version, "count")] = page.count  # type: ignore[assignment]
    rows = [_row_json(table, key, version, select) for key in page.keys]
    parts = [json.dumps(head, separators=(",", ":"))[:-1].encode(), b',"value":[', b",".join(rows), b"]"]
    if page.next_link:
        parts.append(f',"{annotation(version, "nextLink")}":{json.dumps(page.next_link)}'.encode())
    parts.append(b"}")
    headers = {"Preference-Applied": f"odata.maxpagesize={page_size}"} if prefer_applied else {}
    return json_response(version, b"".join(parts), headers=headers)


def _row_json(table: EntityTable, key: Any, version: str, select: list[str] | None) -> bytes:
    if select is None:
        return table.row_json(key, version)
    row = table.rows[key]
    projected = {name: row.get(name) for name in select}
    if table.etype.etag:
        projected = {annotation(version, "etag"): etag_of(row), **projected}
    return json.dumps(projected, separators=(",", ":")).encode()

"""The Inventory Planner REST client (`api/v1`, reference §4–§9).

One long-lived `httpx.AsyncClient` per process (DESIGN habit 7). Reads are retried with jittered
backoff inside a time budget; writes are retried only when IP provably did not process them (429,
or the connection never opened), because a blind retry of a create could duplicate it (§9 Rule).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from opentelemetry import trace
from pydantic import BaseModel, SecretStr

from app.config import InventoryPlannerSettings
from app.integrations.inventory_planner.errors import (
    IPAuthError,
    IPBadPayload,
    IPError,
    IPNotFound,
    IPRateLimited,
    IPReadonly,
    IPUnavailable,
    IPValidationError,
)
from app.integrations.inventory_planner.schemas import (
    IPPurchaseOrder,
    IPPurchaseOrderItem,
    IPVariant,
    IPVendor,
    IPWebhook,
    Parsed,
    RecordError,
    StatusMap,
    parse_one,
    parse_purchase_orders,
    parse_records,
)
from app.kit.http import USER_AGENT, make_client

log = logging.getLogger("b1bridge.ip.client")
tracer = trace.get_tracer("b1bridge.integrations.inventory_planner")

MAX_LIMIT = 1000  # integrators call 1000 the maximum (§5, unconfirmed)
CONNECTION_SAVE = "purchase-orders/connection-save"  # the only documented topic (§8)
M = TypeVar("M", bound=BaseModel)
Sort = Mapping[str, Literal["asc", "desc"]]


@dataclass(frozen=True)
class RetryPolicy:
    """Jittered exponential backoff ("full jitter") bounded by attempts and a wall-clock budget."""

    max_attempts: int = 5
    budget_seconds: float = 60.0
    base_seconds: float = 0.5
    cap_seconds: float = 8.0
    max_retry_after_seconds: float = 120.0

    def backoff(self, attempt: int, rng: Callable[[], float]) -> float:
        return rng() * min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))


@dataclass(frozen=True)
class EnsureResult:
    action: Literal["created", "updated", "unchanged"]
    webhook: IPWebhook
    removed_duplicates: tuple[str, ...] = ()


# --- query helpers ------------------------------------------------------------------------------


def query_value(value: Any) -> str:
    """Filter values: datetimes as Unix seconds (IP's write format, §6/§10.9), bools lowercase."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return ",".join(query_value(v) for v in value)
    return str(value)


def build_query(
    *,
    fields: Iterable[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    sort: Sort | None = None,
) -> dict[str, str]:
    """`fields=` allow-list (§5: no `*`), filters keyed with their operator suffix (`status_ne`,
    `replenishment_gt`), and `<field>_sort=asc|desc`."""
    query: dict[str, str] = {}
    if fields:
        query["fields"] = ",".join(fields)
    for name, value in (filters or {}).items():
        if value is not None:
            query[name] = query_value(value)
    for name, direction in (sort or {}).items():
        query[f"{name}_sort"] = direction
    return query


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def write_value(value: Any) -> Any:
    """Dates go out as Unix seconds: an early API stored `"2019-12-17"` as 1969-12-31 (§6, §10.9)."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())
    if isinstance(value, Decimal):
        return _json_number(value)
    return value


def _json_number(value: Decimal | int | float) -> int | float:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def address_key(url: str) -> tuple[str, str]:
    """Our subscription is the one at the same host and path; the query is ignored (§10.4)."""
    parts = urlsplit(url)
    return parts.netloc.lower(), parts.path.rstrip("/")


def _field_set(fields: str | Iterable[str] | None) -> frozenset[str]:
    if fields is None:
        return frozenset()
    items = fields.split(",") if isinstance(fields, str) else fields
    return frozenset(item.strip() for item in items if item.strip())


# --- response classification ----------------------------------------------------------------------


def _decode(response: httpx.Response) -> Any:
    if not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


_NOT_JSON = object()


def _envelope_message(body: Any) -> str | None:
    """`{"result":{"status":"error","message":…}}` (§9); an error even on a 2xx."""
    result = body.get("result") if isinstance(body, dict) else None
    if isinstance(result, dict) and str(result.get("status", "")).lower() == "error":
        return str(result.get("message") or "Inventory Planner reported an error")
    return None


def _not_found_message(message: str) -> bool:
    lowered = message.lower()
    return "failed to find" in lowered or "not found" in lowered


def classify(response: httpx.Response) -> Any:
    """Return the decoded JSON body of a good response, or raise the typed error it stands for."""
    status = response.status_code
    body = _decode(response)
    message = _envelope_message(body) or f"HTTP {status}"
    if status in (401, 403):
        raise IPAuthError(message, http_status=status)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise IPRateLimited(message, retry_after=retry_after, http_status=status)
    if status >= 500 or status == 408:
        raise IPUnavailable(message, http_status=status)
    if status == 404 or (status >= 400 and _not_found_message(message)):
        raise IPNotFound(message, http_status=status)
    if status >= 400:
        raise IPValidationError(message, http_status=status)
    if body is _NOT_JSON:
        raise IPBadPayload(f"HTTP {status} with a body that is not JSON", http_status=status)
    if _envelope_message(body):
        error = IPNotFound if _not_found_message(message) else IPValidationError
        raise error(message, http_status=status)
    return body


def _unwrap(body: Any, key: str) -> dict[str, Any]:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise IPBadPayload(f"expected an object under {key!r}")
    return value


# --- the client -------------------------------------------------------------------------------------


class InventoryPlannerClient:
    """Typed access to IP's `api/v1`. Use as `async with` or call `aclose()` at shutdown."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | SecretStr,
        account: str,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = 250,
        statuses: StatusMap | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not 1 <= page_size <= MAX_LIMIT:
            raise ValueError(f"page_size must be within 1..{MAX_LIMIT}")
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        # Raw values, no "Bearer" (§4); an explicit User-Agent because Cloudflare blocks empty ones.
        headers = {"Authorization": key, "Account": account, "Accept": "application/json",
                   "User-Agent": USER_AGENT}
        self._http = make_client(base_url.rstrip("/"), timeout=timeout, transport=transport, headers=headers)
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self.statuses = statuses or StatusMap()
        self._sleep = sleep
        self._rng = rng

    @classmethod
    def from_settings(
        cls, settings: InventoryPlannerSettings, *, transport: httpx.AsyncBaseTransport | None = None,
        statuses: StatusMap | None = None,
    ) -> InventoryPlannerClient:
        return cls(base_url=settings.base_url, api_key=settings.api_key, account=settings.account,
                   timeout=settings.timeout_seconds, transport=transport, statuses=statuses)

    async def __aenter__(self) -> InventoryPlannerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- transport with retries -----------------------------------------------------------------

    async def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None,
        json: Any = None, route: str | None = None,
    ) -> Any:
        """One logical call: spans, error classification, retries per the read/write policy."""
        started = time.monotonic()
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                return await self._attempt(method, path, params, json, route or path, attempt)
            except IPError as exc:
                delay = self._retry_delay(exc, method, attempt, time.monotonic() - started)
                if delay is None:
                    raise
                log.warning("ip.retry", extra={"method": method, "route": route or path,
                                                "attempt": attempt, "delay": round(delay, 3),
                                                "error": exc.code})
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, method: str, path: str, params: Mapping[str, str] | None, json: Any, route: str, attempt: int,
    ) -> Any:
        with tracer.start_as_current_span(f"ip {method} {route}") as span:
            span.set_attribute("http.request.method", method)
            span.set_attribute("url.path", path)
            span.set_attribute("ip.attempt", attempt)
            response = await self._send(method, path, params, json)
            span.set_attribute("http.response.status_code", response.status_code)
            try:
                return classify(response)
            except IPError as exc:
                span.set_attribute("error.type", exc.code)
                raise

    async def _send(
        self, method: str, path: str, params: Mapping[str, str] | None, json: Any
    ) -> httpx.Response:
        try:
            return await self._http.request(method, path, params=params, json=json)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _NotSent(f"could not connect to Inventory Planner: {type(exc).__name__}")
        except httpx.TimeoutException as exc:
            raise IPUnavailable(f"Inventory Planner timed out: {type(exc).__name__}")
        except httpx.TransportError as exc:
            raise IPUnavailable(f"transport error talking to Inventory Planner: {type(exc).__name__}")

    def _retry_delay(self, exc: IPError, method: str, attempt: int, elapsed: float) -> float | None:
        """None = give up. Writes retry only what IP never processed (429, no connection)."""
        if not exc.retryable or attempt >= self.retry.max_attempts:
            return None
        is_read = method in ("GET", "HEAD")
        if not (is_read or isinstance(exc, IPRateLimited | _NotSent)):
            return None
        delay = self.retry.backoff(attempt, self._rng)
        if isinstance(exc, IPRateLimited) and exc.retry_after is not None:
            if exc.retry_after > self.retry.max_retry_after_seconds:
                return None
            delay = exc.retry_after + delay * 0.1  # honour Retry-After, de-synchronise workers a little
        if elapsed + delay > self.retry.budget_seconds:
            return None
        return delay

    async def get(
        self, path: str, params: Mapping[str, str] | None = None, *, route: str | None = None
    ) -> Any:
        return await self.request("GET", path, params=params, route=route)

    # --- paging ------------------------------------------------------------------------------------

    async def iter_pages(
        self, path: str, plural: str, params: Mapping[str, str] | None = None, *, limit: int | None = None,
        max_pages: int = 100_000,
    ) -> AsyncIterator[list[Any]]:
        """Yield raw record lists page by page (0-based `page`, §5) until meta says the end."""
        limit = limit or self.page_size
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be within 1..{MAX_LIMIT}")
        fetched = 0
        for page in range(max_pages):
            query = {**(params or {}), "page": str(page), "limit": str(limit)}
            body = await self.get(path, query, route=path)
            rows, meta = _page(body, plural)
            if rows:
                yield rows
            fetched += len(rows)
            if _last_page(rows, meta, limit, fetched):
                return
        raise IPBadPayload(f"{path}: paging did not end after {max_pages} pages")

    async def iter_records(
        self, path: str, plural: str, params: Mapping[str, str] | None = None, *, limit: int | None = None,
    ) -> AsyncIterator[Any]:
        async for rows in self.iter_pages(path, plural, params, limit=limit):
            for row in rows:
                yield row

    async def _parse_pages(
        self, model: type[M], path: str, plural: str, params: Mapping[str, str], limit: int | None,
    ) -> AsyncIterator[Parsed[M]]:
        async for rows in self.iter_pages(path, plural, params, limit=limit):
            yield parse_records(model, rows)

    async def _collect(self, pages: AsyncIterator[Parsed[M]]) -> Parsed[M]:
        result: Parsed[M] = Parsed()
        async for page in pages:
            result.extend(page)
        return result

    # --- purchase orders (§6) ---------------------------------------------------------------------

    def _po_query(
        self, *, type: str | None, status: str | None, status_ne: str | None,
        last_modified_gt: datetime | None, fields: Iterable[str] | None,
        filters: Mapping[str, Any] | None, sort: Sort | None,
    ) -> dict[str, str]:
        merged = {"type": type, "status": status, "status_ne": status_ne,
                  "last_modified_gt": last_modified_gt, **(filters or {})}
        return build_query(fields=fields, filters=merged, sort=sort)

    async def iter_purchase_order_pages(
        self, *, type: str | None = "po", status: str | None = None, status_ne: str | None = None,
        last_modified_gt: datetime | None = None, fields: Iterable[str] | None = None,
        filters: Mapping[str, Any] | None = None, sort: Sort | None = None, limit: int | None = None,
        statuses: StatusMap | None = None,
    ) -> AsyncIterator[Parsed[IPPurchaseOrder]]:
        """Pages of parsed POs; bad records and unmapped statuses land in `errors`, per record."""
        params = self._po_query(type=type, status=status, status_ne=status_ne,
                                last_modified_gt=last_modified_gt, fields=fields, filters=filters, sort=sort)
        async for rows in self.iter_pages("/api/v1/purchase-orders", "purchase-orders", params, limit=limit):
            yield parse_purchase_orders(rows, statuses)

    async def list_purchase_orders(self, **query: Any) -> Parsed[IPPurchaseOrder]:
        """All matching POs (same keyword arguments as `iter_purchase_order_pages`)."""
        return await self._collect(self.iter_purchase_order_pages(**query))

    async def get_purchase_order(self, po_id: str, *, fields: Iterable[str] | None = None) -> IPPurchaseOrder:
        body = await self.get(f"/api/v1/purchase-orders/{quote(po_id, safe='')}",
                              build_query(fields=fields), route="/api/v1/purchase-orders/{id}")
        return _model(IPPurchaseOrder, _unwrap(body, "purchase-order"))

    async def _writable(self, po_id: str, current: IPPurchaseOrder | None) -> IPPurchaseOrder:
        """Never write a readonly PO (§2.3: "saved to" Snowflake makes it read-only; §10.7)."""
        po = current if current is not None and current.readonly is not None else (
            await self.get_purchase_order(po_id, fields=["id", "readonly", "status", "reference"]))
        if po.is_readonly:
            raise IPReadonly(f"purchase order {po_id} is read-only in Inventory Planner", po_id=po_id)
        return po

    async def update_purchase_order(
        self, po_id: str, *, reference: str | None = None, status: str | None = None,
        extra: Mapping[str, Any] | None = None, method: Literal["PATCH", "PUT"] = "PATCH",
        current: IPPurchaseOrder | None = None,
    ) -> IPPurchaseOrder:
        """Set the reference (our SAP DocNum) and/or status, wrapped as `{"purchase-order":…}`.

        `extra` carries other header fields (dates become Unix seconds). Pass a fresh `current`
        to save the readonly look-up; a stale one could miss a PO that became read-only.
        """
        changes = {k: v for k, v in {"reference": reference, "status": status}.items() if v is not None}
        changes.update({key: write_value(value) for key, value in (extra or {}).items()})
        if not changes:
            raise ValueError("nothing to update")
        await self._writable(po_id, current)
        body = await self.request(method, f"/api/v1/purchase-orders/{quote(po_id, safe='')}",
                                  json={"purchase-order": changes}, route="/api/v1/purchase-orders/{id}")
        return _model(IPPurchaseOrder, _unwrap(body, "purchase-order"))

    async def receive_items(
        self, po_id: str, received: Mapping[str, Decimal | int | float], *,
        current: IPPurchaseOrder | None = None,
    ) -> list[IPPurchaseOrderItem]:
        """PATCH line `received` as **absolute cumulative totals** (§6, §10.6): a replay is harmless."""
        if not received:
            raise ValueError("no lines to receive")
        await self._writable(po_id, current)
        items = [{"id": line_id, "received": _json_number(qty)} for line_id, qty in received.items()]
        body = await self.request("PATCH", f"/api/v1/purchase-orders/{quote(po_id, safe='')}/items",
                                  json={"items": items}, route="/api/v1/purchase-orders/{id}/items")
        rows = body.get("items") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise IPBadPayload("receive answer has no items list")
        return [_model(IPPurchaseOrderItem, row) for row in rows]

    # --- variants and vendors (§7) -----------------------------------------------------------------

    def iter_variant_pages(
        self, *, fields: Iterable[str] | None = None, filters: Mapping[str, Any] | None = None,
        sort: Sort | None = None, limit: int | None = None,
    ) -> AsyncIterator[Parsed[IPVariant]]:
        """Variants (the `warehouse` block must be asked for whole: `warehouse.x` gives ids only, §5)."""
        params = build_query(fields=fields, filters=filters, sort=sort)
        return self._parse_pages(IPVariant, "/api/v1/variants", "variants", params, limit)

    async def list_variants(self, **query: Any) -> Parsed[IPVariant]:
        return await self._collect(self.iter_variant_pages(**query))

    async def get_variant(self, variant_id: str, *, fields: Iterable[str] | None = None) -> IPVariant:
        # `/variants/{id}`, not the once-documented `/variant/{id}` (§4).
        body = await self.get(f"/api/v1/variants/{quote(variant_id, safe='')}", build_query(fields=fields),
                              route="/api/v1/variants/{id}")
        return _model(IPVariant, _unwrap(body, "variant"))

    def iter_vendor_pages(
        self, *, fields: Iterable[str] | None = None, filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Parsed[IPVendor]]:
        params = build_query(fields=fields, filters=filters)
        return self._parse_pages(IPVendor, "/api/v1/vendors", "vendors", params, limit)

    async def list_vendors(self, **query: Any) -> Parsed[IPVendor]:
        return await self._collect(self.iter_vendor_pages(**query))

    async def get_vendor(self, vendor_id: str) -> IPVendor:
        body = await self.get(f"/api/v1/vendors/{quote(vendor_id, safe='')}", route="/api/v1/vendors/{id}")
        return _model(IPVendor, _unwrap(body, "vendor"))

    # --- webhooks (§8) --------------------------------------------------------------------------------

    async def list_webhooks(self) -> list[IPWebhook]:
        parsed = await self._collect(self._parse_pages(IPWebhook, "/api/v1/webhooks", "webhooks", {}, None))
        _raise_on_errors(parsed, "webhooks")
        return parsed.good

    async def create_webhook(self, address: str, *, topic: str = CONNECTION_SAVE,
                             fields: str | Iterable[str] | None = None) -> IPWebhook:
        body = await self.request("POST", "/api/v1/webhooks", json=_webhook_body(address, topic, fields))
        return _webhook(body)

    async def update_webhook(self, webhook_id: str, address: str, *, topic: str = CONNECTION_SAVE,
                             fields: str | Iterable[str] | None = None) -> IPWebhook:
        body = await self.request("PUT", f"/api/v1/webhooks/{quote(webhook_id, safe='')}",
                                  json=_webhook_body(address, topic, fields), route="/api/v1/webhooks/{id}")
        return _webhook(body)

    async def delete_webhook(self, webhook_id: str) -> None:
        await self.request("DELETE", f"/api/v1/webhooks/{quote(webhook_id, safe='')}",
                           route="/api/v1/webhooks/{id}")

    async def ensure_webhook(self, url: str, *, topic: str = CONNECTION_SAVE,
                             fields: str | Iterable[str] | None = None) -> EnsureResult:
        """Idempotent: exactly one subscription of `topic` at our host/path, with our URL and fields.

        A rotated token (a new query or URL) updates the existing subscription in place (§10.4);
        extra matching subscriptions are deleted so IP does not call us twice per event.
        """
        ours = [hook for hook in await self.list_webhooks()
                if address_key(hook.address) == address_key(url) and (hook.topic or topic) == topic]
        if not ours:
            return EnsureResult("created", await self.create_webhook(url, topic=topic, fields=fields))
        keep, extras = ours[0], ours[1:]
        for extra in extras:
            await self.delete_webhook(extra.id)
        removed = tuple(extra.id for extra in extras)
        if keep.address == url and _field_set(keep.fields) == _field_set(fields):
            return EnsureResult("unchanged", keep, removed)
        updated = await self.update_webhook(keep.id, url, topic=topic, fields=fields)
        return EnsureResult("updated", updated, removed)


class _NotSent(IPUnavailable):
    """The connection never opened, so IP cannot have acted on the request: safe to retry a write."""


def _page(body: Any, plural: str) -> tuple[list[Any], dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get(plural), list):
        raise IPBadPayload(f"expected a list under {plural!r}")
    meta = body.get("meta")
    return body[plural], meta if isinstance(meta, dict) else {}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _last_page(rows: list[Any], meta: dict[str, Any], limit: int, fetched: int) -> bool:
    """End on an empty page, a short page (`count < limit`), or once `total` rows are in (§5)."""
    if not rows:
        return True
    count = _int(meta.get("count"))
    page_limit = _int(meta.get("limit")) or limit  # IP may clamp our limit; trust what it used
    if (count if count is not None else len(rows)) < page_limit:
        return True
    total = _int(meta.get("total"))
    return total is not None and fetched >= total


def _model(model: type[M], raw: Any) -> M:
    parsed = parse_one(model, raw)
    if isinstance(parsed, RecordError):
        raise IPBadPayload(f"unreadable {model.__name__}: {parsed.message}", record_id=parsed.record_id)
    return parsed


def _raise_on_errors(parsed: Parsed[Any], what: str) -> None:
    if parsed.errors:
        raise IPBadPayload(f"unreadable {what}: {parsed.errors[0].message}")


def _webhook_body(address: str, topic: str, fields: str | Iterable[str] | None) -> dict[str, str]:
    # The documented body is flat (§8), not wrapped like purchase orders.
    body = {"address": address, "topic": topic}
    if fields:
        body["fields"] = fields if isinstance(fields, str) else ",".join(fields)
    return body


def _webhook(body: Any) -> IPWebhook:
    # Accept `{"webhook":{…}}` or the bare object: the answer's shape is undocumented (§8).
    raw = body.get("webhook", body) if isinstance(body, dict) else body
    return _model(IPWebhook, raw)

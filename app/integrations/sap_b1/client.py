"""The SAP Business One Service Layer client: one long-lived httpx client per company database.

Reads retry the retryable errors with jittered backoff within `read_retry_budget`; writes are
never retried here (a lost POST may have committed: callers look up the external reference).
Every request holds a slot of the optional cross-process semaphore, because the Service Layer
degrades badly beyond a handful of concurrent requests whichever process sends them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote as urlquote
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from opentelemetry import trace
from redis.asyncio import Redis

from app.config import SapB1Settings, Settings
from app.integrations.sap_b1 import entities as e
from app.integrations.sap_b1.auth import SapSessionAuth, SessionManager
from app.integrations.sap_b1.errors import (
    SapError,
    SapOutcomeUnknown,
    SapRequest,
    SapUnavailable,
    parse_answer,
    to_error,
)
from app.integrations.sap_b1.query import Expr, F, all_of, literal, params
from app.kit import fastjson
from app.kit import redis as kit_redis
from app.kit.http import make_client
from app.kit.locker import RedisSemaphore

tracer = trace.get_tracer(__name__)
logger = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
Row = dict[str, Any]
Params = Mapping[str, str]
_READ_METHODS = frozenset({"GET", "HEAD"})


class Dialect(StrEnum):
    v1 = "v1"  # OData V3: numeric error codes, `odata.nextLink`, `odata.etag`
    v2 = "v2"  # OData V4: string error codes, `@odata.nextLink`, `@odata.etag`


def detect_dialect(base_url: str) -> Dialect:
    return Dialect.v1 if urlsplit(base_url).path.rstrip("/").endswith("/v1") else Dialect.v2


def next_link(data: Mapping[str, Any]) -> str | None:
    """Both spellings are accepted whatever the root: v2 also answers some v3-style keys."""
    return data.get("@odata.nextLink") or data.get("odata.nextLink")


def etag_of(response: httpx.Response | None, body: Mapping[str, Any] | None) -> str | None:
    """Trust the header: some releases return a constant body ETag on `$select` reads."""
    if response is not None and response.headers.get("ETag"):
        return response.headers["ETag"]
    if body:
        return body.get("@odata.etag") or body.get("odata.etag")
    return None


def key_segment(entity: str, key: str | int) -> str:
    """`Items('A/1')` with the key URL-escaped, so a slash or `?` in a code stays a code."""
    return f"{entity}({urlquote(literal(key), safe=chr(39))})"


def entity_of(path: str) -> str:
    return path.split("?", 1)[0].split("(", 1)[0].split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Created:
    entity: Row
    etag: str | None
    location: str | None


class _NoCookies(httpx.Cookies):
    """httpx's jar would store (or drop) the session cookie behind our back; we own the header
    (SapSessionAuth). Storing nothing also spares, on every response, the urllib request and
    response wrappers httpx builds to hand them to a jar (3 % of a write-back worker's CPU)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


def build_semaphore(redis: Redis, settings: Settings) -> RedisSemaphore:
    """The cross-process cap on in-flight Service Layer requests, one per company database."""
    return RedisSemaphore(redis, kit_redis.key(settings, "sap", "slots", settings.sap.company_db),
                          settings.sap.max_concurrency)


def _backoff(attempt: int) -> float:
    return random.uniform(0.5, 1.0) * min(8.0, 0.5 * 2**attempt)


class SapB1Client:
    """Async Service Layer client for one company database (use one per process, long-lived)."""

    def __init__(self, settings: SapB1Settings, *, transport: httpx.AsyncBaseTransport | None = None,
                 semaphore: RedisSemaphore | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self.settings = settings
        self.root = settings.base_url.rstrip("/") + "/"
        self.dialect = detect_dialect(self.root)
        self.page_size = settings.page_size
        self.semaphore = semaphore
        self._sleep = sleep
        self._origin = urlsplit(self.root)[:2]
        self.http = make_client(self.root, timeout=settings.timeout_seconds, verify=settings.tls_verify,
                                transport=transport, headers={"Accept": "application/json"},
                                max_connections=max(8, settings.max_concurrency * 2))
        # Set on the attribute: httpx's `cookies` setter copies any Cookies into a default jar.
        self.http._cookies = _NoCookies()
        self.sessions = SessionManager(self.http, settings, sleep=sleep)
        self._auth = SapSessionAuth(self.sessions)
        self._entity_sets()

    def _entity_sets(self) -> None:
        self.items = e.EntitySet(self, e.ITEMS)
        self.warehouses = e.EntitySet(self, e.WAREHOUSES)
        self.item_groups = e.EntitySet(self, e.ITEM_GROUPS)
        self.business_partners = e.EntitySet(self, e.BUSINESS_PARTNERS)
        self.purchase_orders = e.EntitySet(self, e.PURCHASE_ORDERS)
        self.purchase_requests = e.EntitySet(self, e.PURCHASE_REQUESTS)
        self.production_orders = e.EntitySet(self, e.PRODUCTION_ORDERS)
        self.goods_receipts = e.EntitySet(self, e.GOODS_RECEIPTS)
        self.goods_issues = e.EntitySet(self, e.GOODS_ISSUES)
        self.purchase_delivery_notes = e.EntitySet(self, e.PURCHASE_DELIVERY_NOTES)
        self.stock_transfers = e.EntitySet(self, e.STOCK_TRANSFERS)

    async def __aenter__(self) -> SapB1Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.sessions.logout()
        await self.http.aclose()

    async def login(self) -> None:
        """Log in now (otherwise the first request does): surfaces bad credentials early."""
        await self.sessions.current()

    # -- transport -------------------------------------------------------------------------

    def _slot(self) -> AbstractAsyncContextManager[Any]:
        return self.semaphore.slot() if self.semaphore is not None else nullcontext()

    async def request(self, method: str, path: str, *, params: Params | None = None,
                      json: Any = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """One call; reads retry retryable errors within the budget, writes never do."""
        method = method.upper()
        if method not in _READ_METHODS:
            return await self._send(method, path, params, json, headers, write=True)
        attempt = 0
        while True:
            try:
                return await self._send(method, path, params, json, headers, write=False)
            except SapError as exc:
                if not exc.retryable or attempt >= self.settings.read_retry_budget:
                    raise
                delay = _backoff(attempt)
                logger.warning("sap.read_retry", extra={"sap_entity": entity_of(path), "attempt": attempt + 1,
                                                        "sap_code": exc.sap_code, "delay_s": round(delay, 3),
                                                        "error": type(exc).__name__})
                await self._sleep(delay)
                attempt += 1

    async def _send(self, method: str, path: str, params: Params | None, body: Any,
                    headers: Mapping[str, str] | None, *, write: bool) -> httpx.Response:
        attributes = {"sap.entity": entity_of(path), "http.method": method}
        with tracer.start_as_current_span(f"sap {method} {attributes['sap.entity']}",
                                          kind=trace.SpanKind.CLIENT, attributes=attributes) as span:
            async with self._slot():
                response = await self._transmit(method, path, params, body, headers, write)
            span.set_attribute("http.status_code", response.status_code)
            if response.status_code < 400:
                return response
            error = to_error(parse_answer(response.status_code, response.content),
                             SapRequest.build(method, _display(path), body), write=write)
            if error.sap_code is not None:
                span.set_attribute("sap.code", error.sap_code)
            span.set_attribute("sap.retryable", error.retryable)
            raise error

    async def _transmit(self, method: str, path: str, params: Params | None, body: Any,
                        headers: Mapping[str, str] | None, write: bool) -> httpx.Response:
        try:
            return await self.http.request(method, path, params=params, json=body, headers=headers,
                                           auth=self._auth)
        except httpx.TransportError as exc:
            raise self._transport_error(exc, method, path, body, write)

    @staticmethod
    def _transport_error(exc: httpx.TransportError, method: str, path: str, body: Any,
                         write: bool) -> SapError:
        evidence = SapRequest.build(method, _display(path), body)
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        # Connect/pool failures happen before a byte is sent: even a write is safe to resend.
        never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        cls = SapOutcomeUnknown if write and not never_sent else SapUnavailable
        return cls(message, request=evidence)

    # -- reads -----------------------------------------------------------------------------

    async def get_json(self, path: str, params: Params | None = None) -> Any:
        response = await self.request("GET", path, params=params)
        return fastjson.loads(response.content) if response.content else None

    def _page_headers(self, page_size: int | None) -> dict[str, str]:
        return {"Prefer": f"odata.maxpagesize={page_size or self.page_size}"}

    def _resolve(self, link: str) -> str:
        """nextLinks come relative to the root (`Items?$skip=20`) or absolute (`/b1s/v1/...`).
        A full URL naming another host (a node's internal name behind the load balancer) is
        re-rooted on ours: the session cookie only ever goes to the configured Service Layer."""
        url = urljoin(self.root, link)
        parts = urlsplit(url)
        if parts[:2] != self._origin:
            url = urlunsplit((*self._origin, parts.path, parts.query, ""))
        return url

    async def iter_pages(self, path: str, params: Params | None = None, *,
                         page_size: int | None = None) -> AsyncIterator[list[Row]]:
        """Stream the pages of a collection as lists of raw dicts, one request per page, lazily.

        `$skip` paging is not a snapshot: use `iter_keyset` where a skipped row would matter."""
        headers = self._page_headers(page_size)
        url: str | None = path
        query: Params | None = params
        while url is not None:
            response = await self.request("GET", url, params=query, headers=headers)
            data = fastjson.loads(response.content)
            rows = data.get("value") or []
            if not rows:  # a full last page still has a nextLink, which answers an empty page
                return
            yield rows
            link = next_link(data)
            url, query = (self._resolve(link), None) if link else (None, None)

    async def iter_entities(self, path: str, params: Params | None = None, *,
                            page_size: int | None = None) -> AsyncIterator[Row]:
        async for rows in self.iter_pages(path, params, page_size=page_size):
            for row in rows:
                yield row

    async def iter_keyset(self, entity: str, *, key: str, filter: Expr | None = None,
                          select: list[str] | None = None, page_size: int | None = None
                          ) -> AsyncIterator[list[Row]]:
        """Pages ordered by `key` with `key gt 'last'`: rows inserted or deleted meanwhile cannot
        shift the window, so nothing is skipped or repeated. Yields pages of raw dicts."""
        size = page_size or self.page_size
        headers = self._page_headers(size)
        last: Any = None
        while True:
            window = all_of(filter, F(key) > last if last is not None else None)
            query = params(filter=window, select=select, orderby=[key], top=size)
            data = fastjson.loads((await self.request("GET", entity, params=query, headers=headers)).content)
            rows = data.get("value") or []
            if not rows:
                return
            yield rows
            last = rows[-1][key]

    async def count(self, entity: str, filter: Expr | None = None) -> int:
        query = params(filter=filter)
        response = await self.request("GET", f"{entity}/$count", params=query)
        return int(response.text.strip().lstrip("\ufeff"))

    async def get(self, entity: str, key: str | int, *, select: list[str] | None = None) -> Row:
        """One entity by key; its ETag (if the set has them) is put under `@odata.etag`."""
        response = await self.request("GET", key_segment(entity, key), params=params(select=select))
        row: Row = fastjson.loads(response.content)
        row["@odata.etag"] = etag_of(response, row)
        return row

    async def find(self, entity: str, filter: Expr | None, *, select: list[str] | None = None,
                   top: int = 2) -> list[Row]:
        data = await self.get_json(entity, params(filter=filter, select=select, top=top))
        return list(data.get("value") or [])

    async def find_by_ext_ref(self, entity: str, value: str, *,
                              select: list[str] | None = None) -> Row | None:
        """The document carrying our external reference, or None. The UDF is not unique in SAP:
        more than one match means a duplicate was posted, which is logged loudly."""
        udf = self.settings.ext_ref_udf
        rows = await self.find(entity, F(udf) == value, select=select)
        if len(rows) > 1:
            logger.error("sap.ext_ref_duplicate", extra={"sap_entity": entity, "ext_ref": value})
        return rows[0] if rows else None

    # -- writes ----------------------------------------------------------------------------

    async def create(self, entity: str, body: Mapping[str, Any]) -> Created:
        """POST; 201 with the entity (DocEntry, DocNum...). Timeouts → SapOutcomeUnknown."""
        response = await self.request("POST", entity, json=dict(body))
        row: Row = fastjson.loads(response.content) if response.content else {}
        return Created(row, etag_of(response, row), response.headers.get("Location"))

    async def patch(self, entity: str, key: str | int, body: Mapping[str, Any], *,
                    etag: str | None = None) -> None:
        """PATCH merges; with `etag`, a concurrent change answers SapConcurrencyConflict (412)."""
        headers = {"If-Match": etag} if etag else None
        await self.request("PATCH", key_segment(entity, key), json=dict(body), headers=headers)

    async def action(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """A bound or unbound action (`CompanyService_GetFinancePeriods`, `PurchaseOrders(1)/Close`)."""
        response = await self.request("POST", path, json=dict(body) if body is not None else None)
        return fastjson.loads(response.content) if response.content else None

    async def read_action(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """A side-effect-free action sent as POST (the CompanyService getters): retried like a read."""
        attempt = 0
        while True:
            try:
                return await self.action(path, body)
            except SapError as exc:
                if not exc.retryable or attempt >= self.settings.read_retry_budget:
                    raise
                await self._sleep(_backoff(attempt))
                attempt += 1


def _display(path: str) -> str:
    """The path for evidence: absolute nextLinks trimmed to their path and query."""
    parts = urlsplit(path)
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.scheme else path

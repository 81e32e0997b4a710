"""The REST client against httpx.MockTransport standing in for IP (envelopes, errors, paging, 429)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.integrations.inventory_planner.client import (
    InventoryPlannerClient,
    RetryPolicy,
    build_query,
    parse_retry_after,
)
from app.integrations.inventory_planner.errors import (
    IPAuthError,
    IPBadPayload,
    IPNotFound,
    IPRateLimited,
    IPReadonly,
    IPUnavailable,
    IPValidationError,
)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make(handler: Handler, **kwargs: Any) -> tuple[InventoryPlannerClient, Recorder]:
    recorder = Recorder(handler)
    client = InventoryPlannerClient(base_url="https://ip.test", api_key="secret-key", account="a1234",
                                    transport=httpx.MockTransport(recorder), sleep=recorder.sleep,
                                    rng=lambda: 0.5, **kwargs)
    return client, recorder


def po(po_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": po_id, "status": "open", "items": [], **fields}


def po_page(request: httpx.Request, total: int) -> httpx.Response:
    page, limit = int(request.url.params["page"]), int(request.url.params["limit"])
    ids = range(page * limit, min(total, (page + 1) * limit))
    meta = {"total": total, "count": len(ids), "limit": limit, "page": page}
    return httpx.Response(200, json={"purchase-orders": [po(f"po{i}") for i in ids], "meta": meta})


async def test_headers_are_raw_key_and_account_with_user_agent() -> None:
    client, rec = make(lambda r: httpx.Response(200, json={"purchase-order": po("po1")}))
    async with client:
        await client.get_purchase_order("po1", fields=["id", "status"])
    request = rec.requests[0]
    assert request.headers["Authorization"] == "secret-key"  # no "Bearer" (§4)
    assert request.headers["Account"] == "a1234"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("b1bridge/")
    assert request.url.path == "/api/v1/purchase-orders/po1"
    assert request.url.params["fields"] == "id,status"


async def test_paging_is_zero_based_and_stops_at_short_page() -> None:
    client, rec = make(lambda r: po_page(r, total=5))
    parsed = await client.list_purchase_orders(limit=2, status_ne="closed")
    assert [p.id for p in parsed.good] == ["po0", "po1", "po2", "po3", "po4"]
    assert [r.url.params["page"] for r in rec.requests] == ["0", "1", "2"]
    assert rec.requests[0].url.params["type"] == "po"
    assert rec.requests[0].url.params["status_ne"] == "closed"


async def test_paging_stops_when_total_reached_without_an_extra_call() -> None:
    client, rec = make(lambda r: po_page(r, total=4))
    parsed = await client.list_purchase_orders(limit=2)
    assert len(parsed.good) == 4 and len(rec.requests) == 2


async def test_paging_stops_on_empty_page_without_meta() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        rows = [po("a"), po("b")] if request.url.params["page"] == "0" else []
        return httpx.Response(200, json={"purchase-orders": rows})

    client, rec = make(handler)
    assert len((await client.list_purchase_orders(limit=2)).good) == 2
    assert len(rec.requests) == 2


async def test_paging_trusts_a_clamped_limit_from_meta() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        rows = [po(f"p{page}-{i}") for i in range(2)] if page < 2 else [po("last")]
        return httpx.Response(200, json={"purchase-orders": rows, "meta": {"count": len(rows), "limit": 2}})

    client, rec = make(handler)
    assert len((await client.list_purchase_orders(limit=1000)).good) == 5
    assert len(rec.requests) == 3


def test_limit_above_1000_is_refused() -> None:
    with pytest.raises(ValueError):
        InventoryPlannerClient(base_url="https://ip.test", api_key="k", account="a", page_size=1001)


def test_query_builder_suffixes_and_sorts() -> None:
    from datetime import UTC, datetime
    query = build_query(fields=["id", "items.sku"], sort={"oos": "asc"},
                        filters={"replenishment_gt": 0, "last_modified_gt": datetime(2026, 1, 1, tzinfo=UTC),
                                 "removed": False, "vendor": None})
    assert query == {"fields": "id,items.sku", "replenishment_gt": "0", "last_modified_gt": "1767225600",
                     "removed": "false", "oos_sort": "asc"}


async def test_bad_records_in_a_page_do_not_fail_the_batch() -> None:
    rows = [po("ok"), {"status": "open"}, po("weird", status="mystery")]
    client, _ = make(lambda r: httpx.Response(200, json={"purchase-orders": rows, "meta": {"count": 3}}))
    parsed = await client.list_purchase_orders(limit=10, statuses=client.statuses)
    assert [p.id for p in parsed.good] == ["ok"]
    assert sorted(e.kind for e in parsed.errors) == ["invalid", "unmapped_status"]


@pytest.mark.parametrize(("status", "error"), [
    (401, IPAuthError), (403, IPAuthError), (404, IPNotFound), (422, IPValidationError),
    (400, IPValidationError), (500, IPUnavailable), (503, IPUnavailable),
])
async def test_http_statuses_map_to_typed_errors(status: int, error: type[Exception]) -> None:
    body = {"result": {"status": "error", "message": "Nope"}}
    client, _ = make(lambda r: httpx.Response(status, json=body),
                     retry=RetryPolicy(max_attempts=1))
    with pytest.raises(error) as info:
        await client.get_vendor("acme")
    assert "Nope" in str(info.value)


async def test_error_envelope_on_2xx_is_an_error() -> None:
    body = {"result": {"status": "error", "message": "Failed to find purchase-order po2"}}
    client, _ = make(lambda r: httpx.Response(200, json=body))
    with pytest.raises(IPNotFound):
        await client.get_purchase_order("po2")
    client, _ = make(lambda r: httpx.Response(200, json={"result": {"status": "error", "message": "bad"}}))
    with pytest.raises(IPValidationError):
        await client.get_purchase_order("po2")


@pytest.mark.parametrize("response", [
    httpx.Response(200, text="<html>cloudflare</html>"),
    httpx.Response(200, json=["not", "an", "object"]),
    httpx.Response(200, json={"purchase-order": "po1"}),
    httpx.Response(200, json={"purchase-order": {"reference": "no id"}}),
])
async def test_unparseable_answers_are_bad_payloads(response: httpx.Response) -> None:
    client, _ = make(lambda r: response)
    with pytest.raises(IPBadPayload):
        await client.get_purchase_order("po1")


async def test_list_without_the_plural_wrapper_is_a_bad_payload() -> None:
    client, _ = make(lambda r: httpx.Response(200, json={"orders": []}))
    with pytest.raises(IPBadPayload):
        await client.list_purchase_orders()


async def test_429_honours_retry_after_then_succeeds() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}),
                    httpx.Response(200, json={"vendor": {"id": "acme"}})])
    client, rec = make(lambda r: next(answers))
    assert (await client.get_vendor("acme")).id == "acme"
    assert len(rec.sleeps) == 1 and 3 <= rec.sleeps[0] < 3.5


async def test_429_beyond_the_budget_raises_rate_limited_with_retry_after() -> None:
    client, rec = make(lambda r: httpx.Response(429, headers={"Retry-After": "500"}))
    with pytest.raises(IPRateLimited) as info:
        await client.get_vendor("acme")
    assert info.value.retry_after == 500 and info.value.retryable and rec.sleeps == []


async def test_reads_retry_5xx_with_backoff_until_attempts_run_out() -> None:
    client, rec = make(lambda r: httpx.Response(502), retry=RetryPolicy(max_attempts=3))
    with pytest.raises(IPUnavailable):
        await client.get_vendor("acme")
    assert len(rec.requests) == 3 and rec.sleeps == [0.25, 0.5]


async def test_reads_retry_timeouts() -> None:
    calls = iter([httpx.ReadTimeout("slow"), None])

    def handler(request: httpx.Request) -> httpx.Response:
        exc = next(calls)
        if exc:
            raise exc
        return httpx.Response(200, json={"vendor": {"id": "acme"}})

    client, rec = make(handler)
    assert (await client.get_vendor("acme")).id == "acme"
    assert len(rec.requests) == 2


async def test_writes_are_not_retried_on_5xx() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"purchase-order": po("po1", readonly=False)})
        return httpx.Response(500, json={"result": {"status": "error", "message": "boom"}})

    client, rec = make(handler)
    with pytest.raises(IPUnavailable):
        await client.update_purchase_order("po1", reference="4711")
    assert [r.method for r in rec.requests] == ["GET", "PATCH"]


async def test_writes_are_retried_after_429_because_ip_did_not_process_them() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "1"}),
                    httpx.Response(200, json={"purchase-order": po("po1", reference="4711")})])
    client, rec = make(lambda r: next(answers))
    updated = await client.update_purchase_order("po1", reference="4711", current=_po(readonly=False))
    assert updated.reference == "4711" and len(rec.requests) == 2


async def test_writes_are_retried_when_the_connection_never_opened() -> None:
    calls = iter([httpx.ConnectError("refused"), None])

    def handler(request: httpx.Request) -> httpx.Response:
        exc = next(calls)
        if exc:
            raise exc
        return httpx.Response(200, json={"purchase-order": po("po1", status="closed")})

    client, rec = make(handler)
    await client.update_purchase_order("po1", status="closed", current=_po(readonly=False))
    assert len(rec.requests) == 2


def _po(**fields: Any) -> Any:
    from app.integrations.inventory_planner.schemas import IPPurchaseOrder
    return IPPurchaseOrder.model_validate(po("po1", **fields))


async def test_update_wraps_body_and_never_writes_a_readonly_po() -> None:
    client, rec = make(lambda r: httpx.Response(200, json={"purchase-order": po("po1", readonly=True)}))
    with pytest.raises(IPReadonly):
        await client.update_purchase_order("po1", reference="4711")
    assert [r.method for r in rec.requests] == ["GET"]
    client, rec = make(lambda r: httpx.Response(200, json={"purchase-order": po("po1", reference="4711")}))
    await client.update_purchase_order("po1", reference="4711", status="CLOSED", current=_po(readonly=False))
    expected = {"purchase-order": {"reference": "4711", "status": "CLOSED"}}
    assert json.loads(rec.requests[0].content) == expected
    assert rec.requests[0].headers["Content-Type"] == "application/json"


async def test_receive_items_sends_absolute_totals() -> None:
    from decimal import Decimal

    def handler(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["items"]
        return httpx.Response(200, json={"items": [{**i, "replenishment": 10} for i in items]})

    client, rec = make(handler)
    received = {"item1": 7, "item2": Decimal("2.5")}
    lines = await client.receive_items("po1", received, current=_po(readonly=False))
    assert json.loads(rec.requests[0].content) == {"items": [{"id": "item1", "received": 7},
                                                            {"id": "item2", "received": 2.5}]}
    assert rec.requests[0].url.path == "/api/v1/purchase-orders/po1/items"
    assert [line.received for line in lines] == [7, Decimal("2.5")]


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


class FakeHooks:
    """A tiny webhook store speaking IP's shapes, to check ensure_webhook's decisions."""

    def __init__(self, hooks: list[dict[str, Any]]) -> None:
        self.hooks = hooks

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"webhooks": self.hooks, "meta": {"count": len(self.hooks)}})
        if request.method == "POST":
            hook = {"id": f"w{len(self.hooks) + 1}", **json.loads(request.content)}
            self.hooks.append(hook)
            return httpx.Response(200, json={"webhook": hook})
        hook_id = request.url.path.rsplit("/", 1)[-1]
        if request.method == "DELETE":
            self.hooks = [h for h in self.hooks if h["id"] != hook_id]
            return httpx.Response(200, json={"result": {"status": "success"}})
        hook = next(h for h in self.hooks if h["id"] == hook_id)
        hook.update(json.loads(request.content))
        return httpx.Response(200, json=hook)  # bare object: the answer shape is undocumented


async def test_ensure_webhook_creates_then_is_unchanged() -> None:
    topic = "purchase-orders/connection-save"
    store = FakeHooks([{"id": "other", "address": "https://elsewhere.test/x", "topic": topic}])
    client, _ = make(store)
    url = "https://b1b.test/webhooks/ip?token=abc"
    first = await client.ensure_webhook(url, fields="id,reference")
    second = await client.ensure_webhook(url, fields=["reference", "id"])
    assert (first.action, second.action) == ("created", "unchanged")
    assert len(store.hooks) == 2


async def test_ensure_webhook_updates_rotated_token_and_removes_duplicates() -> None:
    old = {"address": "https://b1b.test/webhooks/ip?token=old", "topic": "purchase-orders/connection-save"}
    store = FakeHooks([{"id": "w1", **old}, {"id": "w2", **old}])
    client, _ = make(store)
    result = await client.ensure_webhook("https://b1b.test/webhooks/ip?token=new")
    assert result.action == "updated" and result.removed_duplicates == ("w2",)
    assert [h["address"] for h in store.hooks] == ["https://b1b.test/webhooks/ip?token=new"]


async def test_extra_dates_are_sent_as_unix_seconds() -> None:
    from datetime import date
    client, rec = make(lambda r: httpx.Response(200, json={"purchase-order": po("po1")}))
    await client.update_purchase_order("po1", extra={"expected_date": date(2019, 12, 17)},
                                       current=_po(readonly=False))
    assert json.loads(rec.requests[0].content) == {"purchase-order": {"expected_date": 1576540800}}


async def test_every_call_has_a_span_without_secrets() -> None:
    from tests.support.spans import recorded_spans

    with recorded_spans() as exporter:
        client, _ = make(lambda r: httpx.Response(200, json={"purchase-order": po("po1")}))
        await client.get_purchase_order("po1")
        spans = [s for s in exporter.get_finished_spans() if s.name.startswith("ip ")]
    assert [s.name for s in spans] == ["ip GET /api/v1/purchase-orders/{id}"]
    assert spans[0].attributes is not None and spans[0].attributes["http.response.status_code"] == 200
    assert "secret-key" not in repr(dict(spans[0].attributes))

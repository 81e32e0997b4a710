"""Paging quirks, retries and error classification of reads."""

from __future__ import annotations

import httpx
import pytest

from app.integrations.sap_b1.client import detect_dialect
from app.integrations.sap_b1.errors import (
    SapBusinessError,
    SapDeadlock,
    SapNotFound,
    SapUnavailable,
)
from app.integrations.sap_b1.query import F

from .fakes import FakeSL

ROWS = [{"ItemCode": f"A{i:02}"} for i in range(5)]


def _paged(fake: FakeSL, link_style: str, key: str) -> None:
    """Items in pages of 2 with nextLinks in the given style; a full last page links to []."""

    @fake.route("GET", "Items")
    def items(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params.get("$skip", 0))
        page = ROWS[skip:skip + 2]
        body: dict = {"value": page}
        if page:
            rel = f"Items?$select=ItemCode&$skip={skip + 2}"
            body[key] = rel if link_style == "relative" else f"/b1s/{fake.version}/{rel}"
        return httpx.Response(200, json=body)


@pytest.mark.parametrize(("version", "key"), [("v1", "odata.nextLink"), ("v2", "@odata.nextLink")])
@pytest.mark.parametrize("style", ["relative", "absolute"])
async def test_pages_follow_every_nextlink_form(version: str, key: str, style: str) -> None:
    fake = FakeSL(version=version)
    _paged(fake, style, key)
    async with fake.client(page_size=2) as client:
        pages = [p async for p in client.iter_pages("Items", {"$select": "ItemCode"})]
    assert [r["ItemCode"] for p in pages for r in p] == [r["ItemCode"] for r in ROWS]
    gets = [r for r in fake.requests if r.method == "GET"]
    assert all(r.headers["prefer"] == "odata.maxpagesize=2" for r in gets)
    assert all(r.url.path == f"/b1s/{version}/Items" for r in gets)
    assert len(gets) == 4  # 2 + 2 + 1, then the empty page after the link of the last one


async def test_iter_entities_is_lazy() -> None:
    fake = FakeSL()
    _paged(fake, "relative", "@odata.nextLink")
    async with fake.client(page_size=2) as client:
        rows = client.iter_entities("Items")
        assert (await anext(rows))["ItemCode"] == "A00"
        await rows.aclose()
    assert len([r for r in fake.requests if r.method == "GET"]) == 1


async def test_nextlink_naming_another_host_is_re_rooted_on_ours() -> None:
    fake = FakeSL()

    @fake.route("GET", "Items")
    def items(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("$skip"):
            return httpx.Response(200, json={"value": []})
        return httpx.Response(200, json={"value": ROWS, "@odata.nextLink": "https://node7.internal/b1s/v2/Items?$skip=5"})

    async with fake.client() as client:
        rows = [r async for r in client.iter_entities("Items")]
    assert len(rows) == len(ROWS)
    assert all(r.url.host == "sl.example" for r in fake.requests)


async def test_keyset_paging_orders_by_key_and_continues_after_the_last() -> None:
    fake = FakeSL()

    @fake.route("GET", "Items")
    def items(request: httpx.Request) -> httpx.Response:
        flt = request.url.params.get("$filter", "")
        last = flt.split("gt '")[1].rstrip("')") if "gt" in flt else ""
        assert request.url.params["$orderby"] == "ItemCode"
        return httpx.Response(200, json={"value": [r for r in ROWS if r["ItemCode"] > last][:2]})

    async with fake.client(page_size=2) as client:
        pages = [p async for p in client.iter_keyset("Items", key="ItemCode", filter=F("Valid") == True)]  # noqa: E712
    assert [r["ItemCode"] for p in pages for r in p] == [r["ItemCode"] for r in ROWS]
    filters = [r.url.params.get("$filter") for r in fake.requests if r.method == "GET"]
    assert filters[0] == "Valid eq 'tYES'"
    assert filters[1] == "(Valid eq 'tYES') and (ItemCode gt 'A01')"


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_not_found_in_both_envelopes(version: str) -> None:
    fake = FakeSL(version=version)
    async with fake.client() as client:
        with pytest.raises(SapNotFound) as info:
            await client.get("Items", "nope")
    assert info.value.sap_code == -2028 and info.value.http_status == 404
    assert "No matching records" in info.value.message
    assert info.value.request is not None and info.value.request.path == "Items('nope')"


async def test_reads_retry_a_502_html_page_then_succeed() -> None:
    fake = FakeSL()
    answers = iter([httpx.Response(502, text="<html><title>502 Proxy Error</title></html>")] * 2)

    @fake.route("GET", "Items('A1')")
    def item(request: httpx.Request) -> httpx.Response:
        return next(answers, httpx.Response(200, json={"ItemCode": "A1"}))

    async with fake.client() as client:
        assert (await client.get("Items", "A1"))["ItemCode"] == "A1"


async def test_reads_retry_deadlocks_within_the_budget_only() -> None:
    fake = FakeSL(version="v1")
    fake.route("GET", "Items('A1')")(lambda r: fake.error(500, -2038, "Deadlock detected"))
    async with fake.client(read_retry_budget=2) as client:
        with pytest.raises(SapDeadlock) as info:
            await client.get("Items", "A1")
    assert info.value.retryable
    assert len([r for r in fake.requests if r.method == "GET"]) == 3


async def test_a_bad_filter_is_a_business_error_and_not_retried() -> None:
    fake = FakeSL()
    fake.route("GET", "Items")(lambda r: fake.error(400, 201, "Invalid filter"))
    async with fake.client() as client:
        with pytest.raises(SapBusinessError):
            await client.find("Items", F("Nope") == 1)
    assert len([r for r in fake.requests if r.method == "GET"]) == 1


async def test_connection_errors_are_unavailable_and_retryable() -> None:
    fake = FakeSL()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.route("GET", "Items('A1')")(refuse)
    async with fake.client(read_retry_budget=1) as client:
        with pytest.raises(SapUnavailable) as info:
            await client.get("Items", "A1")
    assert info.value.retryable


async def test_count_reads_the_plain_text_number() -> None:
    fake = FakeSL()
    fake.route("GET", "Items/$count")(lambda r: httpx.Response(200, text="42"))
    async with fake.client() as client:
        assert await client.count("Items", F("ItemCode").startswith("A")) == 42


async def test_key_with_quote_and_slash_is_escaped_in_the_path() -> None:
    fake = FakeSL()
    seen: list[str] = []

    @fake.route("GET", "Items('O''B/1')")
    def item(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"ItemCode": "O'B/1"})

    async with fake.client() as client:
        assert (await client.get("Items", "O'B/1"))["ItemCode"] == "O'B/1"
    assert seen == ["/b1s/v2/Items('O''B%2F1')"]


def test_dialect_comes_from_the_root() -> None:
    assert detect_dialect("https://h:50000/b1s/v1/") == "v1"
    assert detect_dialect("https://h:50000/b1s/v2") == "v2"

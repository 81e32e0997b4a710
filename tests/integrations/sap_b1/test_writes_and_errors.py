"""Writes are never retried blindly; every error shape lands in the right class."""

from __future__ import annotations

import json

import httpx
import pytest

from app.integrations.sap_b1.errors import (
    SapBusinessError,
    SapConcurrencyConflict,
    SapDeadlock,
    SapError,
    SapLocked,
    SapOutcomeUnknown,
    SapPeriodLocked,
    SapSessionExpired,
    SapUnavailable,
    SapUnknownError,
    error_class,
    parse_answer,
    redact,
)
from app.integrations.sap_b1.query import F, eq_all, literal, params

from .fakes import FakeSL, v1_error, v2_error

PO = {"CardCode": "V100", "DocDueDate": "2025-07-01", "U_B1B_ExtRef": "ip-1",
      "DocumentLines": [{"ItemCode": "A1", "Quantity": 10, "WarehouseCode": "01"}]}


def _post_count(fake: FakeSL, path: str = "PurchaseOrders") -> int:
    return len([r for r in fake.requests if r.method == "POST" and r.url.path.endswith(path)])


async def test_create_returns_the_entity_with_docentry_and_etag() -> None:
    fake = FakeSL()
    fake.route("POST", "PurchaseOrders")(lambda r: httpx.Response(
        201, json={**json.loads(r.content), "DocEntry": 7, "DocNum": 1007},
        headers={"ETag": 'W/"abc"', "Location": "https://sl.example:50000/b1s/v2/PurchaseOrders(7)"}))
    async with fake.client() as client:
        created = await client.create("PurchaseOrders", PO)
    assert created.entity["DocEntry"] == 7 and created.entity["DocNum"] == 1007
    assert created.etag == 'W/"abc"' and created.location is not None


async def test_a_write_that_times_out_is_outcome_unknown_and_not_retried() -> None:
    fake = FakeSL()

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    fake.route("POST", "PurchaseOrders")(slow)
    async with fake.client() as client:
        with pytest.raises(SapOutcomeUnknown) as info:
            await client.create("PurchaseOrders", PO)
    assert isinstance(info.value, SapUnavailable) and info.value.retryable
    assert _post_count(fake) == 1


async def test_a_write_behind_a_502_proxy_page_is_outcome_unknown() -> None:
    fake = FakeSL()
    fake.route("POST", "PurchaseOrders")(lambda r: httpx.Response(502, text="<html>Proxy Error</html>"))
    async with fake.client() as client:
        with pytest.raises(SapOutcomeUnknown):
            await client.create("PurchaseOrders", PO)
    assert _post_count(fake) == 1


async def test_a_write_that_cannot_connect_is_plainly_unavailable() -> None:
    fake = FakeSL()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fake.route("POST", "PurchaseOrders")(refuse)
    async with fake.client() as client:
        with pytest.raises(SapUnavailable) as info:
            await client.create("PurchaseOrders", PO)
    assert type(info.value) is SapUnavailable


async def test_a_write_replays_once_after_session_expiry() -> None:
    fake = FakeSL()
    fake.route("POST", "PurchaseOrders")(lambda r: httpx.Response(201, json={"DocEntry": 1}))
    async with fake.client() as client:
        await client.login()
        fake.expire_all()
        assert (await client.create("PurchaseOrders", PO)).entity["DocEntry"] == 1
    assert fake.logins == 2 and _post_count(fake) == 2


async def test_session_rejected_again_after_relogin_is_not_replayed_twice() -> None:
    fake = FakeSL()
    fake.route("GET", "Items('A1')")(lambda r: fake.error(401, 301, "Invalid session"))
    async with fake.client(read_retry_budget=0) as client:
        with pytest.raises(SapSessionExpired):
            await client.get("Items", "A1")
    assert fake.logins == 2


async def test_a_deadlock_on_a_write_is_retryable_but_not_retried_here() -> None:
    fake = FakeSL(version="v1")
    fake.route("POST", "InventoryGenExits")(lambda r: fake.error(500, -2038, "Deadlock"))
    async with fake.client() as client:
        with pytest.raises(SapDeadlock) as info:
            await client.create("InventoryGenExits", {"DocumentLines": []})
    assert info.value.retryable and _post_count(fake, "InventoryGenExits") == 1


async def test_patch_with_stale_etag_is_a_concurrency_conflict() -> None:
    fake = FakeSL()
    seen: list[str] = []

    def patch(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["if-match"])
        return fake.error(412, -2039, "Another user or another operation modified data")

    fake.route("PATCH", "PurchaseOrders(7)")(patch)
    async with fake.client() as client:
        with pytest.raises(SapConcurrencyConflict) as info:
            await client.patch("PurchaseOrders", 7, {"Comments": "x"}, etag='W/"old"')
    assert seen == ['W/"old"'] and not info.value.retryable


async def test_period_locked_carries_a_redacted_request() -> None:
    fake = FakeSL()
    fake.route("POST", "InventoryGenEntries")(
        lambda r: fake.error(400, -4013, "Posting period locked; specify an alternative date"))
    async with fake.client() as client:
        with pytest.raises(SapPeriodLocked) as info:
            await client.create("InventoryGenEntries", {"DocDate": "2025-01-31", "Password": "x"})
    error = info.value
    assert error.sap_code == -4013 and error.http_status == 400 and not error.retryable
    assert error.request is not None and error.request.body == {"DocDate": "2025-01-31", "Password": "***"}
    assert error.problem()["request"]["method"] == "POST"


@pytest.mark.parametrize("shape", [v1_error, v2_error])
@pytest.mark.parametrize(("status", "code", "message", "cls"), [
    (400, -10, "Quantity falls into negative inventory [DocumentLines.ItemCode][line: 3]", SapBusinessError),
    (400, -5002, "Posting Date deviates from the defined range", SapBusinessError),
    (400, -1000, "Property 'Nope' of 'Item' is invalid", SapBusinessError),
    (400, -5006, "Action not supported", SapBusinessError),
    (400, -4013, "Posting period locked; specify an alternative date", SapPeriodLocked),
    (412, -2039, "Another user or another operation modified data", SapConcurrencyConflict),
    (500, -2038, "Transaction was deadlocked", SapDeadlock),
    (500, -1, "Row lock on OITW: lock request time out period exceeded", SapLocked),
    (500, 407, "Table definition not found", SapUnavailable),
    (400, -987654, "Something new", SapUnknownError),
])
def test_error_shapes_and_codes(shape, status: int, code: int, message: str, cls: type[SapError]) -> None:
    response = shape(status, code, message)
    answer = parse_answer(status, response.content)
    assert answer.sap_code == code and answer.message == message
    assert error_class(answer) is cls


def test_v2_details_are_kept() -> None:
    answer = parse_answer(400, v2_error(400, -10, "x").content)
    assert answer.details == [{"code": "", "message": ""}]


def test_503_without_body_is_unavailable() -> None:
    assert error_class(parse_answer(503, b"")) is SapUnavailable


def test_redaction_is_deep() -> None:
    assert redact({"a": [{"Password": "p", "B1SESSION": "s"}], "Cookie": "c"}) == {
        "a": [{"Password": "***", "B1SESSION": "***"}], "Cookie": "***"}


def test_filter_values_are_quoted_and_escaped() -> None:
    assert str(F("ItemCode") == "A' or 1 eq 1 or 'x") == "ItemCode eq 'A'' or 1 eq 1 or ''x'"
    assert str((F("CardCode") == "V'1") & ~(F("Frozen") == True)) == (  # noqa: E712
        "(CardCode eq 'V''1') and (not (Frozen eq 'tYES'))")
    assert str(F("ItemCode").startswith("O'")) == "startswith(ItemCode, 'O''')"
    assert str(F("WarehouseCode").isin(["01", "0'2"])) == "(WarehouseCode eq '01' or WarehouseCode eq '0''2')"


def test_literals_format_dates_times_numbers_and_enums() -> None:
    from datetime import date, datetime, time
    from decimal import Decimal
    from enum import Enum

    class Status(Enum):
        open = "bost_Open"

    assert literal(date(2025, 4, 23)) == "'2025-04-23'"
    assert literal(datetime(2025, 4, 23, 12, 21, 21)) == "'2025-04-23T12:21:21'"
    assert literal(time(18, 38)) == "'18:38:00'"
    assert literal(Decimal("1.50")) == "1.50" and literal(3) == "3" and literal(None) == "null"
    assert literal(Status.open) == "'bost_Open'"
    assert str(eq_all({"DocumentStatus": Status.open})) == "DocumentStatus eq 'bost_Open'"


def test_field_names_cannot_inject() -> None:
    with pytest.raises(ValueError):
        F("ItemCode eq 'x' or ItemCode")
    with pytest.raises(ValueError):
        params(select=["ItemCode,Password"])
    with pytest.raises(ValueError):
        params(orderby="ItemCode; drop")
    assert params(select=["ItemCode"], orderby="ItemCode desc", top=5) == {
        "$select": "ItemCode", "$orderby": "ItemCode desc", "$top": "5"}

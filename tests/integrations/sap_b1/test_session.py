"""Login, cookies, single-flight re-login and logout against a scripted Service Layer."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.integrations.sap_b1.errors import SapAuthError, SapUnavailable

from .fakes import FakeSL


def _items(fake: FakeSL) -> None:
    @fake.route("GET", "Items('A1')")
    def item(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ItemCode": "A1"})


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_cookie_without_path_is_sent_explicitly_with_routeid(version: str) -> None:
    fake = FakeSL(version=version)
    _items(fake)
    async with fake.client() as client:
        assert (await client.get("Items", "A1"))["ItemCode"] == "A1"
    assert fake.requests[1].headers["cookie"] == "B1SESSION=sess-1; ROUTEID=.node1"


async def test_twenty_concurrent_requests_on_an_expired_session_cause_one_login() -> None:
    fake = FakeSL()
    _items(fake)
    async with fake.client() as client:
        await client.login()
        fake.expire_all()
        results = await asyncio.gather(*(client.get("Items", "A1") for _ in range(20)))
    assert len(results) == 20
    assert fake.logins == 2  # the first login, then exactly one re-login


async def test_twenty_concurrent_first_requests_cause_one_login() -> None:
    fake = FakeSL()
    _items(fake)
    async with fake.client() as client:
        await asyncio.gather(*(client.get("Items", "A1") for _ in range(20)))
    assert fake.logins == 1


async def test_bad_credentials_fail_fast_without_retry() -> None:
    fake = FakeSL()
    client = fake.client(password="wrong")
    with pytest.raises(SapAuthError) as info:
        await client.get("Items", "A1")
    assert info.value.sap_code == -304
    assert not info.value.retryable
    assert len(fake.requests) == 1
    assert "wrong" not in str(info.value.request) and "***" in str(info.value.request)
    await client.aclose()


async def test_unknown_company_db_is_an_auth_error() -> None:
    fake = FakeSL(version="v1")
    fake.login_handler = lambda r: fake.error(401, -306, "Fail to NONE-SSO login from SLD.")
    with pytest.raises(SapAuthError):
        await fake.client().login()


async def test_login_299_is_retried_serially() -> None:
    fake = FakeSL()
    failures = iter([fake.error(500, 299, "SAML Login Failed"), fake.error(500, 299, "SAML Login Failed")])
    fake.login_handler = lambda r: next(failures, httpx.Response(200))
    async with fake.client() as client:
        await client.login()
    assert fake.logins == 1
    assert len([r for r in fake.requests if r.url.path.endswith("/Login")]) == 3


async def test_login_behind_a_502_proxy_page_is_retried_then_reported() -> None:
    fake = FakeSL()
    fake.login_handler = lambda r: httpx.Response(
        502, text="<html><head><title>502 Proxy Error</title></head><body>Proxy Error</body></html>",
        headers={"content-type": "text/html"})
    with pytest.raises(SapUnavailable) as info:
        await fake.client().login()
    assert info.value.retryable and info.value.http_status == 502
    assert "Proxy Error" in info.value.message and "<html>" not in info.value.message


async def test_aclose_logs_out() -> None:
    fake = FakeSL()
    async with fake.client() as client:
        await client.login()
    assert fake.logouts == 1 and not fake.valid_sessions


async def test_session_without_routeid_still_sends_b1session() -> None:
    fake = FakeSL()
    fake.login_handler = lambda r: httpx.Response(200)
    async with fake.client() as client:
        await client.login()
        session = client.sessions.session
        assert session is not None and session.b1session == "sess-1" and session.timeout_minutes == 30


async def test_httpx_keeps_no_cookie_jar_of_its_own() -> None:
    """We own the session cookie header; a jar would hold SAP's cookies behind our back (and cost
    a cookie-policy pass on every request). The refusing policy used to be dropped by httpx's
    `cookies` setter, which copies a Cookies object into a fresh default jar."""
    fake = FakeSL()
    _items(fake)
    async with fake.client() as client:
        await client.get("Items", "A1")
        assert list(client.http.cookies.jar) == []
    assert fake.requests[1].headers["cookie"] == "B1SESSION=sess-1; ROUTEID=.node1"

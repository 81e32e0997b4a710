"""/exceptions over HTTP: filters, cursor pages, status changes, retry, audit trail."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.auth.service import Principal
from app.db.session import session_scope
from app.exceptions import service as exceptions
from app.models.exception import BusinessException, ExceptionType
from tests.conftest import bearer

T = ExceptionType


async def _raise(app: Any, type_: ExceptionType, subject: dict[str, Any], **kw: Any) -> str:
    async with session_scope(app.state.runtime.sessionmaker) as session:
        return (await exceptions.raise_exception(session, type_, subject, **kw)).id


@pytest.fixture
async def seeded(app: Any, client: httpx.AsyncClient) -> dict[str, str]:
    return {
        "drift": await _raise(app, T.STOCK_DRIFT, {"sku": "SKU-1", "warehouse": "01"}),
        "lag": await _raise(app, T.SYNC_LAG, {"stream": "items"}),
        "locked": await _raise(app, T.LOCKED_PERIOD, {"date": "2026-11-30"}),
        "vendor": await _raise(app, T.UNMAPPED_VENDOR, {"vendor": "Acme"}, severity="critical"),
    }


async def test_list_filters_by_owner_type_status_severity_and_subject(
        client: httpx.AsyncClient, keys: dict[str, str], seeded: dict[str, str]) -> None:
    async def ids(**params: Any) -> set[str]:
        response = await client.get("/exceptions", params=params, headers=bearer(keys["read"]))
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert await ids() == set(seeded.values())
    assert await ids(owner="finance") == {seeded["locked"]}
    assert await ids(type=["SYNC_LAG", "STOCK_DRIFT"]) == {seeded["lag"], seeded["drift"]}
    assert await ids(severity="critical") == {seeded["vendor"]}
    assert await ids(subject="sku-1") == {seeded["drift"]}
    assert await ids(status=["resolved", "ignored"]) == set()
    assert await ids(since="2999-01-01T00:00:00Z") == set()


async def test_bad_filter_values_are_422_problems(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await client.get("/exceptions", params={"status": "closed", "limit": 500},
                                headers=bearer(keys["read"]))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} == {"status.0", "limit"}


async def test_cursor_pagination_walks_every_exception_once(
        app: Any, client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    created = [await _raise(app, T.INACTIVE_ITEM, {"sku": f"S{i}"}) for i in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/exceptions", params=params, headers=bearer(keys["read"]))).json()
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(created))  # most recently seen first


async def test_a_garbled_cursor_is_a_400(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await client.get("/exceptions", params={"cursor": "nope"}, headers=bearer(keys["read"]))
    assert response.status_code == 400


async def test_get_one_and_404(client: httpx.AsyncClient, keys: dict[str, str],
                               seeded: dict[str, str]) -> None:
    response = await client.get(f"/exceptions/{seeded['lag']}", headers=bearer(keys["read"]))
    assert response.status_code == 200
    assert response.json()["owner"] == "integration"
    assert (await client.get("/exceptions/missing", headers=bearer(keys["read"]))).status_code == 404


async def test_summary_counts_by_owner_type_and_status(
        client: httpx.AsyncClient, keys: dict[str, str], seeded: dict[str, str]) -> None:
    await client.post(f"/exceptions/{seeded['drift']}/ignore", json={}, headers=bearer(keys["write"]))
    body = (await client.get("/exceptions/summary", headers=bearer(keys["read"]))).json()
    assert body["total"] == 4
    assert body["by_status"] == {"open": 3, "ignored": 1}
    assert body["by_owner"]["operations"] == {"open": 1, "ignored": 1}
    assert {"owner": "finance", "type": "LOCKED_PERIOD", "status": "open", "count": 1} in body["rows"]


async def test_status_changes_are_recorded_and_audited(
        client: httpx.AsyncClient, keys: dict[str, str], seeded: dict[str, str]) -> None:
    ident, write = seeded["drift"], bearer(keys["write"])
    acked = await client.post(f"/exceptions/{ident}/acknowledge", json={"note": "looking"}, headers=write)
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["status_actor"] == "apikey:test-write"
    resolved = await client.post(f"/exceptions/{ident}/resolve", json={"note": "recounted"}, headers=write)
    assert resolved.json()["status"] == "resolved" and resolved.json()["status_note"] == "recounted"

    audit = await client.get("/audit", params={"entity_type": "exception", "entity_id": ident},
                             headers=bearer(keys["admin"]))
    assert audit.status_code == 200
    entries = audit.json()["items"]
    actions = [e["action"] for e in entries]
    assert actions == ["exception.resolve", "exception.acknowledge", "exception.opened"]
    assert entries[0]["actor"] == "apikey:test-write" and entries[0]["note"] == "recounted"
    assert entries[0]["before"]["status"] == "acknowledged" and entries[0]["after"]["status"] == "resolved"


async def test_invalid_transitions_are_409(client: httpx.AsyncClient, keys: dict[str, str],
                                           seeded: dict[str, str]) -> None:
    ident, write = seeded["lag"], bearer(keys["write"])
    await client.post(f"/exceptions/{ident}/resolve", headers=write)
    again = await client.post(f"/exceptions/{ident}/acknowledge", json={}, headers=write)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "resolved" in again.json()["detail"]
    assert (await client.post(f"/exceptions/{ident}/reopen", headers=write)).json()["status"] == "open"


async def test_status_changes_need_the_write_scope(client: httpx.AsyncClient, keys: dict[str, str],
                                                   seeded: dict[str, str]) -> None:
    response = await client.post(f"/exceptions/{seeded['lag']}/ignore", json={}, headers=bearer(keys["read"]))
    assert response.status_code == 403
    assert (await client.get("/audit", headers=bearer(keys["write"]))).status_code == 403


async def test_retry_without_a_handler_is_409(client: httpx.AsyncClient, keys: dict[str, str],
                                              seeded: dict[str, str]) -> None:
    response = await client.post(f"/exceptions/{seeded['drift']}/retry", json={"corrections": {}},
                                 headers=bearer(keys["write"]))
    assert response.status_code == 409
    assert "resolve themselves once the cause is fixed" in response.json()["detail"]


async def test_retry_runs_the_registered_handler_and_audits(
        app: Any, client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    async def handler(session: Any, exc: BusinessException, corrections: dict[str, Any],
                      principal: Principal) -> dict[str, Any]:
        await exceptions.clear(session, exc.type, exc.subject)
        return {"requeued": True, "by": principal.actor, "date": corrections.get("posting_date")}

    ident = await _raise(app, T.POST_FAILED, {"document": "PO-9"})
    previous = exceptions.retry_handler_for(T.POST_FAILED)  # the write-back's, restored afterwards
    exceptions.register_retry_handler(T.POST_FAILED, handler)
    try:
        response = await client.post(f"/exceptions/{ident}/retry",
                                      json={"corrections": {"posting_date": "2026-12-01"}, "note": "moved"},
                                      headers=bearer(keys["write"]))
    finally:
        exceptions._retry_handlers.pop(T.POST_FAILED, None)
        if previous is not None:
            exceptions.register_retry_handler(T.POST_FAILED, previous)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {"requeued": True, "by": "apikey:test-write", "date": "2026-12-01"}
    assert response.json()["exception"]["status"] == "resolved"
    audit = (await client.get("/audit", params={"entity_id": ident, "actor": "apikey:test-write"},
                              headers=bearer(keys["admin"]))).json()["items"]
    assert [e["action"] for e in audit] == ["exception.retry"]
    assert audit[0]["after"]["corrections"] == {"posting_date": "2026-12-01"}


async def test_audit_pages_with_a_cursor(client: httpx.AsyncClient, keys: dict[str, str],
                                         seeded: dict[str, str]) -> None:
    first = (await client.get("/audit", params={"limit": 3}, headers=bearer(keys["admin"]))).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = (await client.get("/audit", params={"limit": 3, "cursor": first["next_cursor"]},
                             headers=bearer(keys["admin"]))).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = {e["id"] for e in first["items"]} | {e["id"] for e in rest["items"]}
    assert len(ids) == 4

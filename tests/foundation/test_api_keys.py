from __future__ import annotations

import httpx

from tests.conftest import bearer


async def test_admin_creates_a_key_that_works_once_shown(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    created = await client.post(
        "/api-keys", json={"name": "erp", "scope": "write"}, headers=bearer(keys["admin"])
    )
    assert created.status_code == 201
    plain = created.json()["key"]
    listed = await client.get("/api-keys", headers=bearer(keys["admin"]))
    assert "key" not in listed.json()[0]
    assert (await client.get("/api-keys", headers=bearer(plain))).status_code == 403  # write < admin


async def test_revoked_key_is_refused_and_audited(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    created = (
        await client.post("/api-keys", json={"name": "tmp", "scope": "admin"}, headers=bearer(keys["admin"]))
    ).json()
    revoked = await client.delete(f"/api-keys/{created['id']}", headers=bearer(keys["admin"]))
    assert revoked.status_code == 200
    assert (await client.get("/api-keys", headers=bearer(created["key"]))).status_code == 401
    again = await client.delete(f"/api-keys/{created['id']}", headers=bearer(keys["admin"]))
    assert again.status_code == 409


async def test_bad_key_input_is_a_422_problem(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await client.post(
        "/api-keys", json={"name": "", "scope": "root"}, headers=bearer(keys["admin"])
    )
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert {error["field"] for error in body["errors"]} == {"name", "scope"}

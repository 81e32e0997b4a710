from __future__ import annotations

import httpx


async def test_live_answers_without_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200
    results = {check["name"]: check["ok"] for check in body["checks"]}
    assert results["database"] is True
    assert results["redis"] is True


async def test_unknown_route_is_a_problem_response(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404

"""For every route in the app's route table: no key / read / write / admin get exactly what they should.

The table is generated from the app, so a new route is covered the moment it is added; a route with
no scope dependency must be listed in OWN_AUTH (it authenticates another way) or the test fails.
"""

from __future__ import annotations

import re

import fastapi.routing
import httpx
import pytest
from fastapi.routing import APIRoute

from app.main import create_app
from app.models.api_key import Scope
from tests.conftest import bearer

# Routes that do not take API keys: public probes, or routes with their own authentication.
OWN_AUTH = {
    "/health/live": "public liveness probe",
    "/health/ready": "public readiness probe",
    "/webhooks/inventory-planner/{token}": "secret token in the path (+ optional HMAC)",
    "/feeds/starter/{connector}/products.csv": "HTTP Basic per Starter connector",
    "/feeds/starter/{connector}/purchase-orders.csv": "HTTP Basic per Starter connector",
    "/feeds/starter/{connector}/sales-orders.csv": "HTTP Basic per Starter connector",
}


def _scope_of(route: APIRoute) -> Scope | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        name = getattr(dependency.call, "__name__", "")
        if match := re.fullmatch(r"require_(read|write|admin)", name):
            return Scope(match.group(1))
        stack.extend(dependency.dependencies)
    return None


def _api_routes() -> list[tuple[str, APIRoute]]:
    routes = create_app().routes
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)  # FastAPI ≥ 0.16x includes lazily
    if contexts is None:
        return [(r.path, r) for r in routes if isinstance(r, APIRoute)]
    return [(c.path, c.route) for c in contexts(routes) if isinstance(c.route, APIRoute)]


def _matrix() -> list[tuple[str, str, Scope | None]]:
    rows = []
    for path, route in _api_routes():
        for method in sorted(route.methods - {"HEAD"}):
            rows.append((method, path, _scope_of(route)))
    return rows


MATRIX = _matrix()


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "unknown-id", path)


def test_every_route_is_protected_or_explicitly_public() -> None:
    unprotected = {path for _, path, scope in MATRIX if scope is None}
    assert unprotected <= set(OWN_AUTH), f"routes without a scope: {sorted(unprotected - set(OWN_AUTH))}"


@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [row for row in MATRIX if row[2] is not None],
    ids=[f"{m} {p}" for m, p, s in MATRIX if s is not None],
)
async def test_scope_matrix(
    client: httpx.AsyncClient, keys: dict[str, str], method: str, path: str, needed: Scope
) -> None:
    url = _url(path)
    response = await client.request(method, url)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for scope in Scope:
        response = await client.request(method, url, headers=bearer(keys[scope.value]), json={})
        if scope.allows(needed):
            assert response.status_code not in (401, 403), (scope, response.text)
            assert response.status_code < 500, (scope, response.text)
        else:
            assert response.status_code == 403, (scope, response.text)
            assert response.headers["content-type"] == "application/problem+json"


async def test_a_revoked_or_unknown_key_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api-keys", headers=bearer("b1b_not-a-real-key"))
    assert response.status_code == 401

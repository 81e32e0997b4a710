"""A request's transaction commits before its response is sent: a failed commit is never a 2xx."""

from __future__ import annotations

import httpx

from app.auth.service import hash_key
from app.db.session import SessionDep
from app.main import create_app
from app.models.api_key import ApiKey, Scope


async def test_a_commit_that_fails_is_an_error_response_not_a_success(settings, clean) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)

    @app.post("/_probe/duplicate-key")
    async def duplicate(session: SessionDep) -> dict[str, str]:
        # Two rows with the same unique hash: nothing fails until the commit.
        session.add(ApiKey(name="a", scope=Scope.read, prefix="b1b_x", key_hash=hash_key("same")))
        session.add(ApiKey(name="b", scope=Scope.read, prefix="b1b_x", key_hash=hash_key("same")))
        return {"status": "stored"}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        response = await c.post("/_probe/duplicate-key")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"

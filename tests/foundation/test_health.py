from __future__ import annotations

import httpx

from app.config import SapB1Settings
from app.emulators.sap_b1.app import create_app as create_sap_emulator
from app.emulators.sap_b1.config import EmulatorConfig
from app.health.checks import forget_sap_status
from app.integrations.sap_b1.client import SapB1Client
from app.integrations.sap_b1.setup import ensure_ext_ref
from app.main import create_app
from tests.support.server import serve


async def test_live_answers_without_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_database_redis_and_sap(client: httpx.AsyncClient) -> None:
    forget_sap_status()
    body = (await client.get("/health/ready")).json()
    results = {check["name"]: check for check in body["checks"]}
    assert results["database"]["ok"] is True
    assert results["redis"]["ok"] is True
    assert results["sap_external_reference"]["ok"] is False  # no Service Layer answers here


async def test_ready_says_why_until_the_external_reference_udf_exists(settings, clean) -> None:  # type: ignore[no-untyped-def]
    forget_sap_status()
    with serve(create_sap_emulator(EmulatorConfig(items=5))) as sap_url:
        own = settings.model_copy(update={"sap": SapB1Settings(base_url=f"{sap_url}/b1s/v2")})
        app = create_app(own)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        ):
            response = await client.get("/health/ready")
            assert response.status_code == 503
            sap = next(c for c in response.json()["checks"] if c["name"] == "sap_external_reference")
            assert "b1bridge sap setup" in sap["detail"]
            async with SapB1Client(own.sap) as sap_client:
                await ensure_ext_ref(sap_client)
            forget_sap_status()
            assert (await client.get("/health/ready")).status_code == 200


async def test_unknown_route_is_a_problem_response(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404

"""The posting-period cache of the write-back: jobs that find it stale together load it once."""

from __future__ import annotations

import asyncio

import httpx

from app.config import SapB1Settings
from app.emulators.sap_b1.app import create_app
from app.emulators.sap_b1.config import EmulatorConfig
from app.integrations.sap_b1.client import SapB1Client
from app.writeback import periods
from tests.support.server import serve


async def test_concurrent_stale_readers_share_one_load() -> None:
    with serve(create_app(EmulatorConfig(items=5, warehouses=2, login_delay_ms=0))) as url:
        async with SapB1Client(SapB1Settings(base_url=f"{url}/b1s/v2")) as sap:
            periods.invalidate(sap)
            loaded = await asyncio.gather(*(periods.periods(sap, max_age=60) for _ in range(10)))
            assert all(p is loaded[0] for p in loaded)
            async with httpx.AsyncClient() as http:
                stats = (await http.get(f"{url}/_emulator/stats")).json()["requests_by_route"]
    # Before: ten jobs, ten loads (each GetPeriods plus one GetFinancePeriods per category).
    assert [v for k, v in stats.items() if "CompanyService_GetPeriods" in k] == [1]

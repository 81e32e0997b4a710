"""The httpx clients' network layer (app.kit.http.AsyncioBackend) over real sockets: plain HTTP,
TLS with a CA bundle, refused connections, timeouts, and idle connections the server closed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trustme

from app.config import SapB1Settings
from app.emulators.sap_b1.app import create_app
from app.emulators.sap_b1.config import EmulatorConfig
from app.integrations.sap_b1.client import SapB1Client
from app.integrations.sap_b1.errors import SapUnavailable
from app.kit.http import AsyncioBackend, make_client
from tests.support.server import free_port, serve


def test_the_clients_pool_runs_on_the_asyncio_backend() -> None:
    # httpx takes no network backend, so make_client sets its pool's: an upgrade that moves the
    # attribute must fail here rather than silently fall back to anyio.
    client = make_client("http://127.0.0.1:9", timeout=1)
    assert isinstance(client._transport._pool._network_backend, AsyncioBackend)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    tmp = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    cert.private_key_pem.write_to_path(str(tmp / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp / "cert.pem"))
    return tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"


def _emulator() -> object:
    return create_app(EmulatorConfig(items=5, warehouses=2, login_delay_ms=0))


async def test_sap_over_tls_with_a_ca_bundle(tls: tuple[Path, Path, Path]) -> None:
    ca, cert, key = tls
    with serve(_emulator(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        base = url.replace("http://", "https://") + "/b1s/v2"
        async with SapB1Client(SapB1Settings(base_url=base, verify_tls=str(ca))) as sap:
            rows = await sap.find("Items", None, top=2)
            assert len(rows) == 2
        # The same server is refused when its certificate is not trusted: nothing was sent.
        untrusted = SapB1Settings(base_url=base, verify_tls="true", read_retry_budget=0)
        async with SapB1Client(untrusted) as sap:
            with pytest.raises(SapUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
                await sap.find("Items", None, top=2)


async def test_refused_connection_is_a_connect_error() -> None:
    async with make_client(f"http://127.0.0.1:{free_port()}", timeout=2) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/")


@contextlib.asynccontextmanager
async def _silent_server() -> AsyncIterator[int]:
    """Accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    async with _silent_server() as port, make_client(f"http://127.0.0.1:{port}", timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/")


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    with serve(_emulator(), timeout_keep_alive=1) as url:
        async with make_client(url, timeout=5) as client:
            assert (await client.get("/_emulator/stats")).status_code == 200
            await asyncio.sleep(1.5)  # uvicorn closes the idle keep-alive connection meanwhile
            assert (await client.get("/_emulator/stats")).status_code == 200


def test_httpcore_finds_sniffio_without_searching_for_it() -> None:
    """httpcore imports sniffio inside every request (`current_async_library`). Without it
    installed, each of those imports searched sys.path and failed: 3-4 % of a write-back worker's
    CPU. A finder that counts lookups sees none once sniffio is importable."""
    import importlib.abc
    import sys

    from httpcore._synchronization import current_async_library

    looked_up: list[str] = []

    class Counting(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: object, target: object = None) -> None:
            looked_up.append(name)

    sys.meta_path.insert(0, Counting())
    try:
        for _ in range(3):
            current_async_library()  # outside an event loop sniffio raises; the import comes first
    except Exception:
        pass
    finally:
        sys.meta_path.pop(0)
    assert "sniffio" not in looked_up

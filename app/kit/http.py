"""The factory for the long-lived httpx clients (one per external system)."""

from __future__ import annotations

import httpx

USER_AGENT = "b1bridge/0.1 (+https://github.com/b1bridge/b1bridge)"


def make_client(
    base_url: str,
    *,
    timeout: float,
    verify: bool | str = True,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: dict[str, str] | None = None,
    max_connections: int = 20,
) -> httpx.AsyncClient:
    """Explicit timeouts and pool limits; `transport` is injectable for MockTransport tests."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        verify=verify,
        transport=transport,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        follow_redirects=False,
    )

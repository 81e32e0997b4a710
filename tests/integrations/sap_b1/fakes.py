"""A scripted Service Layer behind httpx.MockTransport: the external system, not our code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

from app.config import SapB1Settings
from app.integrations.sap_b1.client import SapB1Client

Handler = Callable[[httpx.Request], httpx.Response]


def v1_error(status: int, code: int, message: str) -> httpx.Response:
    envelope = {"code": code, "message": {"lang": "en-us", "value": message}}
    return httpx.Response(status, json={"error": envelope})


def v2_error(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": str(code), "message": message,
                                                  "details": [{"code": "", "message": ""}]}})


class FakeSL:
    """Login/Logout plus whatever routes a test adds; counts logins and records requests."""

    def __init__(self, *, version: str = "v2", session_timeout: int = 30) -> None:
        self.version = version
        self.logins = 0
        self.logouts = 0
        self.valid_sessions: set[str] = set()
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler] = {}
        self.login_handler: Handler | None = None
        self.session_timeout = session_timeout

    @property
    def root(self) -> str:
        return f"/b1s/{self.version}/"

    def error(self, status: int, code: int, message: str) -> httpx.Response:
        return (v1_error if self.version == "v1" else v2_error)(status, code, message)

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes[(method, path)] = handler
            return handler
        return register

    def expire_all(self) -> None:
        self.valid_sessions.clear()

    def session_of(self, request: httpx.Request) -> str | None:
        for part in request.headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "B1SESSION":
                return value
        return None

    def _login(self, request: httpx.Request) -> httpx.Response:
        if self.login_handler is not None:
            answer = self.login_handler(request)
            if answer.status_code != 200:
                return answer
        body = json.loads(request.content)
        if body["Password"] != "secret":
            return self.error(401, -304, "Fail to NONE-SSO login from SLD.")
        self.logins += 1
        sid = f"sess-{self.logins}"
        self.valid_sessions.add(sid)
        return httpx.Response(200, headers=[("Set-Cookie", f"B1SESSION={sid};HttpOnly;"),
                                            ("Set-Cookie", "ROUTEID=.node1; path=/b1s")],
                              json={"SessionId": sid, "Version": "1000110",
                                    "SessionTimeout": self.session_timeout})

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix(self.root)
        if request.method == "POST" and path == "Login":
            return self._login(request)
        if self.session_of(request) not in self.valid_sessions or "ROUTEID=.node1" not in request.headers.get(
                "cookie", ""):
            return self.error(401, 301, "Invalid session or session already timeout.")
        if request.method == "POST" and path == "Logout":
            self.logouts += 1
            self.valid_sessions.discard(self.session_of(request) or "")
            return httpx.Response(204)
        handler = self.routes.get((request.method, path))
        if handler is None:
            return self.error(404, -2028, "No matching records found (ODBC -2028)")
        return handler(request)

    async def async_handle(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let concurrent requests interleave like a real network
        return self.handle(request)

    def client(self, *, handler: Any = None, semaphore: Any = None, **settings: Any) -> SapB1Client:
        values: dict[str, Any] = {"base_url": f"https://sl.example:50000/b1s/{self.version}",
                                  "password": "secret", **settings}
        config = SapB1Settings(**values)
        transport = httpx.MockTransport(handler or self.async_handle)
        return SapB1Client(config, transport=transport, semaphore=semaphore, sleep=_no_sleep)


async def _no_sleep(_: float) -> None:
    return None

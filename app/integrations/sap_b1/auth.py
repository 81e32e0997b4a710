"""Service Layer sessions: login, single-flight re-login on 401/301, logout.

SAP calls login "a heavy job" and parallel logins fail (500/299), so every login of a client goes
through one asyncio lock: twenty requests that find the session expired cause exactly one login,
and the other nineteen replay with the session it produced.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from itertools import count

import httpx

from app.config import SapB1Settings
from app.integrations.sap_b1.errors import (
    BROKEN_NODE_CODES,
    SESSION_CODES,
    SapAuthError,
    SapError,
    SapRequest,
    SapUnavailable,
    parse_answer,
    to_error,
)

logger = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
_generations = count(1)


@dataclass(frozen=True, slots=True)
class Session:
    b1session: str
    routeid: str | None
    timeout_minutes: int | None
    version: str | None
    generation: int

    @property
    def cookie_header(self) -> str:
        # Sent explicitly on every call: B1SESSION's Set-Cookie has no Path and a trailing `;`,
        # which some cookie jars drop; ROUTEID pins the session to the node that knows it.
        if self.routeid:
            return f"B1SESSION={self.b1session}; ROUTEID={self.routeid}"
        return f"B1SESSION={self.b1session}"


def parse_set_cookies(headers: httpx.Headers) -> dict[str, str]:
    """Name → value of every Set-Cookie, read by hand (attributes ignored)."""
    cookies: dict[str, str] = {}
    for raw in headers.get_list("set-cookie"):
        pair = raw.split(";", 1)[0]
        name, sep, value = pair.partition("=")
        if sep and name.strip():
            cookies[name.strip()] = value.strip().strip('"')
    return cookies


def needs_relogin(response: httpx.Response) -> bool:
    """401/301 (expired or unknown session), or 500/407 from a broken node a login re-routes."""
    if response.status_code not in (401, 500):
        return False
    code = parse_answer(response.status_code, response.content).sap_code
    return code in SESSION_CODES or (response.status_code == 500 and code in BROKEN_NODE_CODES)


class SessionManager:
    """Owns the client's one session; every login happens here, serialized."""

    def __init__(self, http: httpx.AsyncClient, settings: SapB1Settings, *, sleep: Sleep = asyncio.sleep,
                 login_attempts: int = 4) -> None:
        self._http = http
        self._settings = settings
        self._sleep = sleep
        self._attempts = max(1, login_attempts)
        self._lock = asyncio.Lock()
        self._session: Session | None = None
        self.logins = 0

    @property
    def session(self) -> Session | None:
        return self._session

    async def current(self) -> Session:
        session = self._session
        if session is not None:  # hot path: no lock once logged in
            return session
        async with self._lock:
            if self._session is None:
                self._session = await self._login()
            return self._session

    async def renew(self, stale: Session | None) -> Session:
        """Replace `stale`, unless another request already did while we waited for the lock."""
        async with self._lock:
            if self._session is not None and self._session is not stale:
                return self._session
            logger.info("sap.relogin", extra={"sap_company": self._settings.company_db,
                                              "stale_generation": stale.generation if stale else None})
            self._session = None
            self._session = await self._login()
            return self._session

    async def _login(self) -> Session:
        for attempt in range(self._attempts):
            try:
                return await self._login_once()
            except SapAuthError:
                raise  # wrong password or database: retrying only locks the user out
            except SapError as exc:
                if not exc.retryable or attempt == self._attempts - 1:
                    raise
                logger.warning("sap.login_retry", extra={"attempt": attempt + 1, "sap_code": exc.sap_code,
                                                         "http_status": exc.http_status})
                await self._sleep(random.uniform(0.2, 0.5) * 2**attempt)
        raise AssertionError("unreachable")

    async def _login_once(self) -> Session:
        body = {"CompanyDB": self._settings.company_db, "UserName": self._settings.username,
                "Password": self._settings.password.get_secret_value()}
        evidence = SapRequest.build("POST", "Login", body)
        try:
            response = await self._http.post("Login", json=body)
        except httpx.TransportError as exc:  # a login has no side effect worth guarding
            raise SapUnavailable(f"login failed: {type(exc).__name__}: {exc}", request=evidence)
        if response.status_code != 200:
            raise to_error(parse_answer(response.status_code, response.content), evidence)
        self.logins += 1
        logger.info("sap.login", extra={"sap_company": self._settings.company_db})
        return self._session_from(response)

    def _session_from(self, response: httpx.Response) -> Session:
        cookies = parse_set_cookies(response.headers)
        data = response.json()
        b1session = cookies.get("B1SESSION") or data.get("SessionId")
        if not b1session:
            raise SapUnavailable("login answered 200 without a B1SESSION", http_status=200)
        timeout = data.get("SessionTimeout")
        return Session(b1session, cookies.get("ROUTEID"), int(timeout) if timeout else None,
                       data.get("Version"), next(_generations))

    async def logout(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            await self._http.post("Logout", headers={"Cookie": session.cookie_header})
        except httpx.HTTPError:  # the session times out on its own; closing must not fail
            logger.info("sap.logout_failed", extra={"sap_company": self._settings.company_db})


class SapSessionAuth(httpx.Auth):
    """Adds the session cookie; on 401/301 re-logs in once (single flight) and replays once."""

    def __init__(self, sessions: SessionManager) -> None:
        self._sessions = sessions

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("the SAP client is async only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        session = await self._sessions.current()
        request.headers["Cookie"] = session.cookie_header
        response = yield request
        if response.status_code in (401, 500):  # only then is the body needed here
            await response.aread()
        if needs_relogin(response):
            session = await self._sessions.renew(session)
            request.headers["Cookie"] = session.cookie_header
            yield request

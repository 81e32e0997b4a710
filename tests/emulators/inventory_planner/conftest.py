"""Fixtures: the IP emulator served by uvicorn on a loopback port, reached over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from app.emulators.inventory_planner.app import create_app
from app.emulators.inventory_planner.config import IPEmulatorConfig
from app.emulators.inventory_planner.store import IPStore
from tests.support.server import serve

AUTH = {"Authorization": "demo-ip-key", "Account": "a1234", "User-Agent": "b1bridge-tests"}


class Emulator:
    def __init__(self, base_url: str, store: IPStore) -> None:
        self.base_url = base_url
        self.store = store
        self.client = httpx.Client(base_url=base_url, headers=AUTH, timeout=10)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, f"/_emulator{path}", **kwargs)


@pytest.fixture
def start_ip() -> Iterator[Callable[..., Emulator]]:
    """Start an emulator with config overrides; stopped at the end of the test."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> Emulator:
            app = create_app(IPEmulatorConfig(**overrides))
            emulator = Emulator(stack.enter_context(serve(app)), app.state.ip)
            stack.callback(emulator.client.close)
            return emulator

        yield start


@pytest.fixture
def ip(start_ip: Callable[..., Emulator]) -> Emulator:
    return start_ip()

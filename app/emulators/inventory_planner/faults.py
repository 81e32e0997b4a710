"""Injected throttling and server errors (reference §9, §11.8).

IP documents no rate limit; integrators honour 429 + Retry-After defensively, so the emulator can
answer it every Nth request or at a random rate. The RNG is seeded so a failing run replays.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from app.emulators.inventory_planner.config import FaultConfig


@dataclass
class Decision:
    status: int
    retry_after: int | None = None


class FaultInjector:
    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self.rng = random.Random(seed)
        self.requests = 0
        self.throttled = 0
        self.errors = 0
        self.create_failures = 0
        self._lock = threading.Lock()

    def update(self, changes: dict[str, object], seed: int | None = None) -> FaultConfig:
        with self._lock:
            self.config = FaultConfig.model_validate({**self.config.model_dump(), **changes})
            if seed is not None:
                self.rng.seed(seed)
            return self.config

    def decide(self) -> Decision | None:
        """One /api request: throttle first (a throttled request never reaches the app), then 5xx."""
        with self._lock:
            self.requests += 1
            cfg = self.config
            every = cfg.throttle_every and self.requests % cfg.throttle_every == 0
            if every or (cfg.throttle_rate and self.rng.random() < cfg.throttle_rate):
                self.throttled += 1
                return Decision(429, cfg.retry_after_seconds)
            if cfg.error_rate and self.rng.random() < cfg.error_rate:
                self.errors += 1
                return Decision(cfg.error_status)
            return None

    def take_create_failure(self) -> bool:
        with self._lock:
            if self.config.fail_next_creates <= 0:
                return False
            self.config = self.config.model_copy(
                update={"fail_next_creates": self.config.fail_next_creates - 1}
            )
            self.create_failures += 1
            return True

    def stats(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "errors_injected": self.errors,
            "create_failures": self.create_failures,
            "config": self.config.model_dump(),
        }

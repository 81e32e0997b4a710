"""IP's error envelope: `{"result":{"status":"error","message":...}}` (reference §9).

The HTTP status for not-found and validation errors is unconfirmed, so callers pass one and the
not-found status is a config knob.
"""

from __future__ import annotations

from typing import Any


class IPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def envelope(message: str) -> dict[str, Any]:
    return {"result": {"status": "error", "message": message}}


def bad_request(message: str) -> IPError:
    return IPError(400, message)

"""Opaque cursors for keyset pagination (created_at/id ordered lists)."""

from __future__ import annotations

import base64
import json
from typing import Any

from app.errors import BadRequest


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The cursor is not valid; use the next_cursor of a previous page.")
    if not isinstance(value, dict):
        raise BadRequest("The cursor is not valid; use the next_cursor of a previous page.")
    return value

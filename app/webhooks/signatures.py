"""Webhook authentication (pure): the path token and Standard Webhooks signatures.

IP documents no signature (reference IP §8), so the path token is the baseline defence (IP §10.4).
When a signing secret is configured (a relay that signs, or a future IP feature), deliveries must
carry `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">` (standardwebhooks.com); the timestamp bounds how long a captured
delivery can be replayed, and the stored webhook-id catches replays inside that window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass


class SignatureError(Exception):
    """Forged or malformed: answer 401."""


class StaleDelivery(Exception):
    """Outside the replay window: answer 409."""


@dataclass(frozen=True)
class SignedHeaders:
    webhook_id: str
    timestamp: str
    signature: str


def token_matches(given: str, expected: str) -> bool:
    # compare_digest on bytes: constant time whatever the characters are.
    return hmac.compare_digest(given.encode(), expected.encode())


def secret_bytes(secret: str) -> bytes:
    """Standard Webhooks secrets are `whsec_<base64>`; anything else is used as raw bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except binascii.Error as exc:
            raise ValueError("the webhook signing secret is not valid whsec_ base64") from exc
    return secret.encode()


def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _fresh(timestamp: str, now: float, tolerance: int) -> None:
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not a Unix time") from None
    if abs(now - sent) > tolerance:
        raise StaleDelivery(f"webhook-timestamp is {int(now - sent)}s away from now (window {tolerance}s)")


def verify(secret: str, headers: SignedHeaders, body: bytes, *, now: float, tolerance: int) -> None:
    """Raise SignatureError (401) or StaleDelivery (409); return when the delivery is authentic."""
    expected = sign(secret, headers.webhook_id, headers.timestamp, body).split(",", 1)[1]
    # Several space-separated signatures are allowed (secret rotation); one valid v1 suffices.
    for candidate in headers.signature.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            _fresh(headers.timestamp, now, tolerance)
            return
    raise SignatureError("no valid webhook-signature")

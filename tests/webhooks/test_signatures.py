import base64

import pytest

from app.webhooks.signatures import SignatureError, SignedHeaders, StaleDelivery, sign, token_matches, verify

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
BODY = b'{"purchase-order":{"id":"po_1"}}'


def headers(ts: int = 1_700_000_000, body: bytes = BODY, secret: str = SECRET) -> SignedHeaders:
    return SignedHeaders("msg_1", str(ts), sign(secret, "msg_1", str(ts), body))


def test_a_valid_signature_inside_the_window_passes() -> None:
    verify(SECRET, headers(), BODY, now=1_700_000_100, tolerance=300)


def test_rotated_secrets_any_listed_signature_passes() -> None:
    good = headers()
    both = SignedHeaders(good.webhook_id, good.timestamp, "v1,AAAA " + good.signature)
    verify(SECRET, both, BODY, now=1_700_000_000, tolerance=300)


def test_a_changed_body_is_forged() -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, headers(), BODY + b" ", now=1_700_000_000, tolerance=300)


def test_another_secret_is_forged() -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, headers(secret="other"), BODY, now=1_700_000_000, tolerance=300)


def test_an_old_authentic_delivery_is_stale() -> None:
    with pytest.raises(StaleDelivery):
        verify(SECRET, headers(), BODY, now=1_700_000_000 + 301, tolerance=300)


def test_token_comparison() -> None:
    assert token_matches("abc", "abc") and not token_matches("abd", "abc")

"""app.kit.fastjson: orjson's speed, the stdlib's acceptance."""

from __future__ import annotations

import json

import pytest

from app.kit import fastjson


def test_parses_what_orjson_parses() -> None:
    assert fastjson.loads(b'{"value": [{"ItemCode": "A1", "InStock": 2.5}]}') == {
        "value": [{"ItemCode": "A1", "InStock": 2.5}]
    }


def test_what_only_the_stdlib_accepts_still_parses() -> None:
    text = '{"ItemName": "half a pair \\ud800"}'  # a lone surrogate escape: orjson refuses it
    assert fastjson.loads(text.encode()) == json.loads(text)


def test_invalid_json_raises_the_stdlib_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        fastjson.loads(b'{"value": [')

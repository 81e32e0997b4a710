"""Secret redaction for evidence, audit entries and logs."""

from __future__ import annotations

import re
from typing import Any

SENSITIVE = re.compile(r"(pass(word)?|secret|token|api[_-]?key|authorization|cookie|b1session|credential)",
                       re.IGNORECASE)
REDACTED = "***"


def redact(value: Any) -> Any:
    """A deep copy of `value` with the values of sensitive-looking keys replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if isinstance(k, str) and SENSITIVE.search(k) else redact(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value

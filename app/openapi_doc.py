"""The checked-in OpenAPI document, generated from the app (`b1bridge openapi`)."""

from __future__ import annotations

import json

from app.config import Settings


def render() -> str:
    from app.main import create_app

    # A fixed development configuration, so the document never depends on the machine's environment.
    application = create_app(Settings(B1BRIDGE_ENV="development"))  # type: ignore[call-arg]
    return json.dumps(application.openapi(), indent=2, sort_keys=True) + "\n"

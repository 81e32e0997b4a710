"""Tracing and structured logs, set up once per process.

Spans go to an OTLP endpoint when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and nowhere otherwise.
Logs are one JSON object per line: the message is the event name (`writeback.period_locked`),
the fields are bound with `extra=`, and the request id is added wherever one is current.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from app.config import Settings
from app.kit.context import current_request_id

_configured = False
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            body["request_id"] = request_id
        body.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def setup(settings: Settings) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("b1bridge")
    root.handlers = [handler]
    root.setLevel(settings.log_level.upper())
    root.propagate = False
    if not settings.otlp_endpoint:
        # Spans would go nowhere: leave OpenTelemetry's no-op provider in place rather than record
        # every span for nobody (on the webhook endpoint that was a sixth of each request's calls).
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)

"""Recording the spans the app emits through the global tracer provider."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@contextlib.contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """Without an OTLP endpoint the app leaves the no-op provider: record into an SDK provider of
    our own (one per process; the tracers already handed out follow it)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        exporter.shutdown()  # the processor stays registered; a shut-down exporter drops everything

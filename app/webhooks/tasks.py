"""Webhook deliveries need no job of their own: intake queues `recommendations.ingest_po`."""

from __future__ import annotations

FUNCTIONS: list[object] = []

"""What the write-back pipeline talks through: the process's long-lived clients and the ONE global
SAP cap of `app.integrations.clients`, plus its lock keys.

Writes use `sap_writer` (its requests take no slot of their own: the pipeline holds one slot of
`sap_cap` around each document's SAP calls, so a document never waits for a second slot while
holding one); reads that are not part of a document (posting periods) use `sap_reader`, which
takes a slot of the same cap per request. Sync reads and write-back writes therefore share one
limit, whichever processes they run in.
"""

from __future__ import annotations

from app.integrations.clients import ip, sap_cap, sap_reader, sap_writer
from app.kit import redis as redis_kit
from app.runtime import Runtime

__all__ = ["ip", "sap_cap", "sap_reader", "sap_writer", "sku_lock_key"]


def sku_lock_key(runtime: Runtime, sku: str) -> str:
    return redis_kit.key(runtime.settings, "lock", "sku", sku)

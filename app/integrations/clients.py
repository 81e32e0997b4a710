"""The long-lived clients of a process, one per external system and purpose (DESIGN habit 7).

- `sap_reader`: reads (sync, validation, health); every request takes a slot of the global cap.
- `sap_writer`: the write-back pipeline; it holds one slot of the *same* cap for a whole document
  (lookup, post, read-back), so its requests take none of their own — nesting both on one
  semaphore could deadlock once every slot is held by a document waiting for a request slot.
  Two clients also means two Service Layer sessions, which the reference recommends (§2).
- `ip`: the Inventory Planner REST client.
"""

from __future__ import annotations

from app.integrations.inventory_planner.client import InventoryPlannerClient
from app.integrations.sap_b1.client import SapB1Client, build_semaphore
from app.kit.locker import RedisSemaphore
from app.runtime import Runtime


def sap_cap(runtime: Runtime) -> RedisSemaphore:
    """The one cross-process cap on in-flight Service Layer work (`SAPB1_MAX_CONCURRENCY`)."""
    return build_semaphore(runtime.redis, runtime.settings)


def sap_reader(runtime: Runtime) -> SapB1Client:
    client: SapB1Client = runtime.client(
        "sap-reader", lambda rt: SapB1Client(rt.settings.sap, semaphore=sap_cap(rt)))
    return client


def sap_writer(runtime: Runtime) -> SapB1Client:
    client: SapB1Client = runtime.client("sap-writer", lambda rt: SapB1Client(rt.settings.sap))
    return client


def ip(runtime: Runtime) -> InventoryPlannerClient:
    client: InventoryPlannerClient = runtime.client(
        "ip", lambda rt: InventoryPlannerClient.from_settings(rt.settings.ip))
    return client

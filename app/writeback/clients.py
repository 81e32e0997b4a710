"""The long-lived SAP and IP clients and the Redis coordination the write-back pipeline uses.

The pipeline holds one slot of the global SAP cap for a whole document (lookup, post, read-back),
so its SAP client takes no per-request slot of its own: nesting both on one semaphore could
deadlock once every slot is held by a document waiting for a request slot.
"""

from __future__ import annotations

from app.integrations.inventory_planner.client import InventoryPlannerClient
from app.integrations.sap_b1.client import SapB1Client
from app.kit import redis as redis_kit
from app.kit.locker import RedisSemaphore
from app.runtime import Runtime


def sap(runtime: Runtime) -> SapB1Client:
    client: SapB1Client = runtime.client("sap-writeback", lambda rt: SapB1Client(rt.settings.sap))
    return client


def ip(runtime: Runtime) -> InventoryPlannerClient:
    client: InventoryPlannerClient = runtime.client(
        "ip", lambda rt: InventoryPlannerClient.from_settings(rt.settings.ip)
    )
    return client


def sap_slots(runtime: Runtime) -> RedisSemaphore:
    settings = runtime.settings
    limit = settings.writeback.concurrency or settings.sap.max_concurrency
    return RedisSemaphore(
        runtime.redis,
        redis_kit.key(settings, "sap", "write-slots"),
        limit,
        lease_seconds=settings.writeback.lock_lease_seconds,
        wait_timeout=None,
    )


def sku_lock_key(runtime: Runtime, sku: str) -> str:
    return redis_kit.key(runtime.settings, "lock", "sku", sku)

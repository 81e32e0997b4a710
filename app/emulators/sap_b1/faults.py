"""Fault injection (reference §14.9). Every probabilistic decision draws from `store.fault_rng`,
seeded by `FaultConfig.seed`, and only for knobs that are on, so a sequential test with the same
requests sees the same faults every run."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from starlette.responses import Response

from app.emulators.sap_b1.errors import DEADLOCK, SLError, proxy_error_page

if TYPE_CHECKING:
    from app.emulators.sap_b1.store import SapStore

BROKEN_NODE = "Table definition not found"


def _roll(store: SapStore, rate: float) -> bool:
    return rate > 0 and store.fault_rng.random() < rate


def _count(store: SapStore, kind: str) -> None:
    store.stats.faults[kind] += 1


async def before_request(store: SapStore) -> Response | None:
    """LB-level faults, before the request reaches a node (any path, Login included)."""
    faults = store.faults
    if faults.max_concurrency and store.inflight_requests > faults.max_concurrency:
        _count(store, "max_concurrency")
        return proxy_error_page(503)
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if _roll(store, faults.timeout_rate):
        _count(store, "timeout")
        await asyncio.sleep(faults.timeout_hang_s)  # longer than the client's timeout
        return proxy_error_page(504)
    if _roll(store, faults.error_5xx_rate):
        _count(store, "error_5xx")
        return proxy_error_page(502)
    return None


def check_session_faults(store: SapStore, session_id: str) -> None:
    """Forced expiry every N authenticated requests, and a node that breaks (§2 failover)."""
    faults = store.faults
    if faults.session_expiry_every:
        store.authenticated_requests += 1
        if store.authenticated_requests % faults.session_expiry_every == 0:
            _count(store, "session_expiry")
            store.sessions.drop(session_id)
            raise SLError(401, 301, "Invalid session or session already timeout.")
    if session_id in store.sessions.broken or _roll(store, faults.broken_node_rate):
        if session_id not in store.sessions.broken:
            _count(store, "broken_node")
            store.sessions.broken.add(session_id)
        raise SLError(500, 407, BROKEN_NODE)


def check_deadlock(store: SapStore) -> None:
    if _roll(store, store.faults.deadlock_rate):
        _count(store, "deadlock")
        raise SLError(store.faults.deadlock_status, -2038, DEADLOCK)


def drop_after_commit(store: SapStore, response: Response) -> Response:
    """The write committed, but the LB lost the answer: the client sees 502 HTML (§10)."""
    if 200 <= response.status_code < 300 and _roll(store, store.faults.commit_then_drop_rate):
        _count(store, "commit_then_drop")
        return proxy_error_page(502)
    return response


def acquire_row_locks(store: SapStore, pairs: set[tuple[str, str]]) -> None:
    """Overlapping writes on one ItemCode+WarehouseCode: the later one loses (OITW, §7)."""
    if not store.faults.row_lock_contention:
        return
    for item_code, whs in sorted(pairs):
        if (item_code, whs) in store.row_locks:
            store.stats.lock_conflicts += 1
            _count(store, "row_lock")
            raise SLError(
                store.faults.deadlock_status,
                -2038,
                f"Lock request time out period exceeded. 'OITW' [ItemCode: {item_code}]"
                f"[WhsCode: {whs}] (ODBC -2038)",
            )
    store.row_locks.update(pairs)


def release_row_locks(store: SapStore, pairs: set[tuple[str, str]]) -> None:
    if store.faults.row_lock_contention:
        store.row_locks.difference_update(pairs)

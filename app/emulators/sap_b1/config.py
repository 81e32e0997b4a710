"""Configuration of the SAP B1 Service Layer emulator: data shape, session rules and fault knobs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field


class FaultConfig(BaseModel):
    """Fault knobs (reference §14.9). Rates are probabilities per eligible request, drawn from one
    RNG seeded with `seed` so a run with the same request order injects the same faults."""

    seed: int = 0
    latency_ms: int = 0  # added to every Service Layer request
    write_latency_ms: int = 0  # added to every write (POST/PATCH/DELETE); also the row-lock hold time
    error_5xx_rate: float = 0.0  # Apache LB "502 Proxy Error" HTML page (§2 failover)
    timeout_rate: float = 0.0  # request hangs `timeout_hang_s`, then 504 HTML
    timeout_hang_s: float = 30.0
    deadlock_rate: float = 0.0  # -2038 on writes (§7)
    deadlock_status: int = 400
    row_lock_contention: bool = False  # overlapping writes on one ItemCode+WarehouseCode → -2038 OITW
    max_concurrency: int = 0  # 0 = unlimited; beyond it → 503 HTML from the LB
    session_expiry_every: int = 0  # every Nth authenticated request finds its session expired
    commit_then_drop_rate: float = 0.0  # a write commits but the client gets a 502 HTML page
    broken_node_rate: float = 0.0  # the session's node breaks: 500/407 until re-login (§2)


class EmulatorConfig(BaseModel):
    seed: int = 1
    items: int = 200
    warehouses: int = 5
    company_db: str = "SBODEMOUS"
    username: str = "manager"
    password: str = "demo-password"
    version: str = "1000110"
    session_timeout_s: float = 1800.0  # sliding idle timeout (§2); seconds so tests can expire fast
    max_parallel_logins: int = 6  # LOG: 2 of 8 concurrent logins failed with 500/299
    login_delay_ms: int = 50  # login is "a heavy job": it must take time for logins to overlap
    default_page_size: int = 20  # §5
    stock_moves_item_update_date: bool = False  # §11: assume OITW changes do not move OITM.UpdateDate
    seed_ext_ref_udf: bool = False  # predefine U_<ext_ref> so tests can skip the product's setup step
    ext_ref_udf: str = "U_B1B_ExtRef"  # the UDF counted by stats "duplicates_by_ext_ref"
    visible_after_restart: bool = False  # §10: new UDFs unusable until POST /_emulator/restart
    locked_period_months_ago: int = 3  # seeded ltLocked period, relative to today
    node: str = "node1"
    faults: FaultConfig = Field(default_factory=FaultConfig)


def load_faults(path: str | None = None, env: str = "B1EMU_FAULTS") -> FaultConfig:
    """Faults from a JSON/YAML file, then overridden by JSON in the `B1EMU_FAULTS` variable."""
    data: dict[str, Any] = {}
    if path:
        data.update(_read_fault_file(Path(path)))
    raw = os.environ.get(env)
    if raw:
        data.update(json.loads(raw))
    return FaultConfig.model_validate(data)


def _read_fault_file(path: Path) -> dict[str, Any]:
    text = path.read_text()
    if path.suffix in {".yaml", ".yml"}:
        import yaml

        return dict(yaml.safe_load(text) or {})
    return dict(json.loads(text))

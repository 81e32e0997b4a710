"""Configuration of the Inventory Planner emulator.

Everything the reference leaves unconfirmed (reference §6, §8, §9) is a knob here, so tests can
exercise each plausible behaviour of the real service instead of the one we guessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

DEFAULT_API_KEY = "demo-ip-key"
DEFAULT_ACCOUNT = "a1234"
DEFAULT_SFTP_USERNAME = "b1bridge"
DEFAULT_SFTP_PASSWORD = "demo-sftp-password"
UNKNOWN_SKU = "ZZ-UNKNOWN-1"


def _default_skus() -> list[str]:
    # The SAP B1 emulator seeds items A00001...; the same codes keep the demo consistent.
    return [f"A{n:05d}" for n in range(1, 21)]


def _default_vendors() -> list[dict[str, str]]:
    # IP matches vendors by display name (reference §2.2); the id is IP's own lowercase handle.
    return [
        {"id": "v10000", "display_name": "V10000"},
        {"id": "v10001", "display_name": "V10001"},
        {"id": "v10002", "display_name": "V10002"},
    ]


def _default_warehouses() -> list[dict[str, str]]:
    # CSV warehouse ids are prefixed by the connection: c<conn>_csv.<id> (reference §6).
    return [
        {"id": "c123_csv.01", "display_name": "01"},
        {"id": "c123_csv.02", "display_name": "02"},
        {"id": "c123_csv.03", "display_name": "03"},
    ]


StatusType = Literal["draft", "active", "closed", "cancelled"]


def _default_custom_statuses() -> dict[str, StatusType]:
    # Free-text statuses seen on real accounts (reference §6, HNJ), typed as IP would require.
    return {"ordered": "active", "waiting for invoice": "active"}


class FaultConfig(BaseModel):
    """Injected failures; all off by default. Changeable at runtime via POST /_emulator/faults."""

    throttle_every: int = Field(default=0, ge=0)  # every Nth /api request answers 429
    throttle_rate: float = Field(default=0.0, ge=0, le=1)  # or a random share of them
    retry_after_seconds: int = Field(default=1, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)  # random share of /api requests answering 5xx
    error_status: int = Field(default=503, ge=500, le=599)
    fail_next_creates: int = Field(default=0, ge=0)  # next N PO creates answer 500 + result envelope


class WebhookConfig(BaseModel):
    """Delivery behaviour; IP documents none of it (reference §8), so every mode is testable."""

    mode: Literal["normal", "duplicate", "delayed", "dropped", "reordered"] = "normal"
    delay_seconds: float = Field(default=0.5, ge=0)
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_seconds: float = Field(default=0.05, ge=0)  # doubled per attempt
    backoff_max_seconds: float = Field(default=2.0, ge=0)
    timeout_seconds: float = Field(default=5.0, gt=0)


class StarterConnector(BaseModel):
    """One Starter CSV connector = one warehouse fed by one hosted products file (reference §2.1)."""

    warehouse: str
    url: str
    username: str | None = None
    password: str | None = None


class IPEmulatorConfig(BaseModel):
    api_key: str = DEFAULT_API_KEY
    account: str = DEFAULT_ACCOUNT
    rng_seed: int = 1234
    date_mode: Literal["strict", "lenient"] = "lenient"
    receive_semantics: Literal["absolute", "delta"] = "absolute"
    costs_as_strings: bool = False
    not_found_status: int = 404
    max_limit: int = 1000
    limit_overflow: Literal["clamp", "error"] = "clamp"
    default_limit: int = 100
    # Custom stock-order statuses and their type (reference §2.2, CSV2 10804148).
    custom_statuses: dict[str, StatusType] = Field(default_factory=_default_custom_statuses)

    skus: list[str] = Field(default_factory=_default_skus)
    unknown_sku: str = UNKNOWN_SKU
    vendors: list[dict[str, str]] = Field(default_factory=_default_vendors)
    warehouses: list[dict[str, str]] = Field(default_factory=_default_warehouses)
    # Connection prefix of CSV ids: WAREHOUSE_ID "01" in a file is warehouse "c123_csv.01" in the API.
    csv_connection: str = "c123_csv"
    seed_purchase_orders: bool = True
    seed_variants: bool = True  # variants known before any sync, so PO lines resolve

    # Saving to a Snowflake-like connection made orders read-only (reference §2.3); off by default
    # because the product must still PATCH received quantities on saved orders.
    save_makes_readonly: bool = False

    faults: FaultConfig = Field(default_factory=FaultConfig)
    webhooks: WebhookConfig = Field(default_factory=WebhookConfig)
    starter_connectors: list[StarterConnector] = Field(default_factory=list)

    # SFTP: None disables the server (REST-only tests); 0 binds any free loopback port.
    sftp_port: int | None = None
    sftp_root: Path | None = None  # None = a fresh temporary directory
    sftp_username: str = DEFAULT_SFTP_USERNAME
    sftp_password: str | None = DEFAULT_SFTP_PASSWORD
    sftp_authorized_keys: list[str] = Field(default_factory=list)  # OpenSSH public key lines
    sftp_known_hosts_path: Path | None = None  # where to write the host key's known_hosts line
    sync_poll_seconds: float | None = None  # also ingest on a timer, not only on POST /_emulator/sync

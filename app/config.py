"""One Settings object for the whole service, read from the environment (and `.env`).

Each external system has its own nested group with its own environment prefix, so the variable
names stay the documented ones (`SAPB1_BASE_URL`, `IP_API_KEY`, ...).
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Placeholders used by the embedded demo. Production refuses to start with any of them.
DEFAULT_SECRET = "change-me"
DEMO_SAP_PASSWORD = "demo-password"
DEMO_IP_API_KEY = "demo-ip-key"
DEMO_WEBHOOK_TOKEN = "demo-webhook-token-please-rotate"


class Environment(StrEnum):
    development = "development"
    production = "production"


def _group(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")


class SapB1Settings(BaseSettings):
    model_config = _group("SAPB1_")

    base_url: str = "http://127.0.0.1:50000/b1s/v2"
    company_db: str = "SBODEMOUS"
    username: str = "manager"
    password: SecretStr = SecretStr(DEMO_SAP_PASSWORD)
    # true, false, or a path to a CA bundle (the Service Layer ships a self-signed certificate).
    verify_tls: str = "true"
    max_concurrency: int = Field(default=4, ge=1, le=64)
    page_size: int = Field(default=500, ge=1, le=5000)
    timeout_seconds: float = Field(default=30.0, gt=0)
    ext_ref_udf: str = "U_B1B_ExtRef"
    # Reporting windows during which bulk writes wait, e.g. "Mon-Fri 08:00-09:30; Sat 06:00-07:00".
    write_blackout: str = ""
    read_retry_budget: int = Field(default=5, ge=0, le=20)

    @field_validator("verify_tls")
    @classmethod
    def _verify(cls, value: str) -> str:
        lowered = value.strip().lower()
        if lowered in {"true", "1", "yes", "on"}:
            return "true"
        if lowered in {"false", "0", "no", "off"}:
            return "false"
        if not Path(value).expanduser().is_file():
            raise ValueError("SAPB1_VERIFY_TLS must be true, false or the path of an existing CA bundle")
        return value

    @property
    def tls_verify(self) -> bool | str:
        if self.verify_tls == "true":
            return True
        if self.verify_tls == "false":
            return False
        return str(Path(self.verify_tls).expanduser())


class InventoryPlannerSettings(BaseSettings):
    model_config = _group("IP_")

    base_url: str = "http://127.0.0.1:50100"
    api_key: SecretStr = SecretStr(DEMO_IP_API_KEY)
    account: str = "a1234"
    webhook_token: SecretStr = SecretStr(DEMO_WEBHOOK_TOKEN)
    webhook_signing_secret: SecretStr | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    # "advanced" uploads incremental files over SFTP; "starter" serves full hosted snapshots; "both".
    feed_mode: Literal["advanced", "starter", "both"] = "advanced"
    sftp_host: str = "127.0.0.1"
    sftp_port: int = 50122
    sftp_username: str = "b1bridge"
    sftp_password: SecretStr | None = SecretStr("demo-sftp-password")
    sftp_key_path: str | None = None
    sftp_known_hosts: str | None = None  # None = host key not verified (refused in production)
    sftp_root: str = "/"
    account_timezone: str = "UTC"
    nightly_sync_at: str = "02:00"


class WritebackSettings(BaseSettings):
    """Orders in (webhook + polling, recommendations) and the SAP write-back pipeline."""

    model_config = _group("WRITEBACK_")

    approval: Literal["auto", "manual"] = "auto"
    # purchase_order (default) or purchase_request for bought lines; make items always become
    # Production Orders (SAP ProcurementMethod bom_Make, or an item group listed below).
    document_type: Literal["purchase_order", "purchase_request"] = "purchase_order"
    make_item_groups: list[int] = Field(default_factory=list)
    locked_period_policy: Literal["review", "post_in_open_period"] = "review"
    period_cache_seconds: float = Field(default=300.0, ge=0)
    retry_budget: int = Field(default=8, ge=0, le=20)
    backoff_base_seconds: float = Field(default=0.5, ge=0)
    backoff_cap_seconds: float = Field(default=30.0, ge=0)
    lock_lease_seconds: float = Field(default=30.0, gt=0)
    lock_wait_seconds: float = Field(default=120.0, gt=0)
    ip_status_after_post: str = "open"
    poll_minutes: int = Field(default=5, ge=0, le=1440)  # 0 = no polling cron
    poll_overlap_seconds: int = Field(default=120, ge=0)
    webhook_max_bytes: int = Field(default=256 * 1024, ge=1024)
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    # Processed webhook deliveries older than this are deleted daily; 0 keeps them forever.
    webhook_retention_days: int = Field(default=30, ge=0)


class SyncSettings(BaseSettings):
    """Stock-out sync (app/sync): schedules, the re-read overlap, rule policies, detector thresholds."""

    model_config = _group("SYNC_")

    incremental_every_minutes: int = Field(default=15, ge=1, le=1440)
    # Full run in the IP account's time zone; the default lands files 2 h before IP's 02:00 sync.
    full_at: str = "00:00"
    # The Service Layer compares UpdateTime to the minute and pages without a snapshot (ref §4, §5).
    overlap_seconds: int = Field(default=180, ge=120)
    page_size: int = Field(default=500, ge=1, le=5000)
    sap_timezone: str = "UTC"  # the zone SAP stamps UpdateDate/UpdateTime in
    unmapped_category: Literal["send", "hold"] = "send"
    drift_abs_tolerance: float = Field(default=1.0, ge=0)
    drift_pct_tolerance: float = Field(default=5.0, ge=0)
    lag_minutes: int = Field(default=60, ge=1)
    feed_lead_minutes: int = Field(default=60, ge=0)  # files must land this long before IP's sync
    reconcile_every_minutes: int = Field(default=360, ge=5)
    detect_every_minutes: int = Field(default=15, ge=1)
    receipts_every_minutes: int = Field(default=15, ge=1, le=1440)  # GRPOs → IP received
    lock_lease_seconds: float = Field(default=60.0, gt=1)
    feed_dir: Path | None = None  # default: <data dir>/feeds


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    env: Environment = Field(default=Environment.development, alias="B1BRIDGE_ENV")
    data_dir: Path = Field(default=Path(".b1bridge"), alias="B1BRIDGE_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    # Every Redis key and the arq queue live under this namespace, so deployments can share a Redis.
    redis_namespace: str = Field(default="b1bridge", alias="B1BRIDGE_REDIS_NAMESPACE")
    secret_key: SecretStr = Field(default=SecretStr(DEFAULT_SECRET), alias="B1BRIDGE_SECRET_KEY")
    log_level: str = Field(default="INFO", alias="B1BRIDGE_LOG_LEVEL")
    otlp_endpoint: str | None = Field(default=None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    service_name: str = Field(default="b1bridge", alias="OTEL_SERVICE_NAME")
    # The outbox relay runs inside the API process too, so a lone API still enqueues its jobs.
    relay_in_api: bool = Field(default=True, alias="B1BRIDGE_RELAY_IN_API")
    # How often an idle worker looks for due jobs (arq's poll_delay, 0.5 s by default there): a job
    # queued meanwhile waits up to this long, and a worker with free slots too.
    worker_poll_seconds: float = Field(default=0.05, gt=0, le=5, alias="B1BRIDGE_WORKER_POLL_SECONDS")
    # Jobs a worker runs at once. Write-back jobs mostly wait (on SKU locks, a SAP slot, SAP), so
    # more of them in flight find more documents whose SKUs are free: on the write-back benchmark
    # one worker went from 77 to 95 documents/s between 20 and 40.
    worker_max_jobs: int = Field(default=40, ge=1, le=500, alias="B1BRIDGE_WORKER_MAX_JOBS")
    # New or reopened error/critical exceptions are POSTed here (a team chat webhook); unset = logged.
    escalation_webhook_url: str | None = Field(default=None, alias="B1BRIDGE_ESCALATION_WEBHOOK_URL")

    sap: SapB1Settings = Field(default_factory=SapB1Settings)
    ip: InventoryPlannerSettings = Field(default_factory=InventoryPlannerSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    writeback: WritebackSettings = Field(default_factory=WritebackSettings)

    @property
    def is_production(self) -> bool:
        return self.env is Environment.production

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'b1bridge.db').resolve()}"

    def production_problems(self) -> list[str]:
        """What stops this configuration from running in production (empty when it may)."""
        problems = []
        defaults = {
            "B1BRIDGE_SECRET_KEY": (self.secret_key, DEFAULT_SECRET),
            "SAPB1_PASSWORD": (self.sap.password, DEMO_SAP_PASSWORD),
            "IP_API_KEY": (self.ip.api_key, DEMO_IP_API_KEY),
            "IP_WEBHOOK_TOKEN": (self.ip.webhook_token, DEMO_WEBHOOK_TOKEN),
        }
        for name, (secret, default) in defaults.items():
            if secret.get_secret_value() == default:
                problems.append(f"{name} still has its demo default")
        if self.sap.verify_tls == "false":
            problems.append("SAPB1_VERIFY_TLS=false: TLS toward SAP must be verified in production")
        if self.ip.sftp_known_hosts is None:
            problems.append("IP_SFTP_KNOWN_HOSTS is unset: the SFTP host key must be verified in production")
        if len(self.ip.webhook_token.get_secret_value()) < 24:
            problems.append("IP_WEBHOOK_TOKEN must be at least 24 characters")
        return problems


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, sqlite://) and pick the async driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()

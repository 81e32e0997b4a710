"""Stock-out state: sync runs, watermarks, and the snapshots that make incremental files possible.

Two snapshot levels, because SAP and IP count stock in different places: `stock_snapshots` is what
SAP said per SKU x SAP warehouse; `ip_stock` is what b1bridge computed and sent per SKU x IP warehouse
(several SAP warehouses may aggregate into one). Values are sent in two phases: a run writes
`pending_*` while it streams and promotes them to `sent_*` only once its file is safely queued, so a
run that dies half-way never marks anything as sent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utc_field


class RunStatus(StrEnum):
    pending = "pending"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class RunTrigger(StrEnum):
    schedule = "schedule"
    api = "api"
    cli = "cli"


class RunMode(StrEnum):
    incremental = "incremental"
    full = "full"


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_runs"

    id: str = id_field()
    stream: str = Field(max_length=40, index=True)
    trigger: RunTrigger = Field(sa_type=String(10))
    mode: RunMode = Field(sa_type=String(12))
    status: RunStatus = Field(sa_type=String(10), index=True)
    # Equals `stream` while the run is pending or running, NULL after: a unique column is the
    # portable way (SQLite and PostgreSQL) to let only one active run per stream exist.
    active_key: str | None = Field(default=None, max_length=40, unique=True)
    created_at: datetime = utc_field(index=True)
    started_at: datetime | None = utc_field(nullable=True)
    heartbeat_at: datetime | None = utc_field(nullable=True)
    finished_at: datetime | None = utc_field(nullable=True)
    duration_ms: int | None = None
    read_count: int = 0
    changed_count: int = 0
    sent_count: int = 0
    skipped_count: int = 0
    watermark_from: datetime | None = utc_field(nullable=True)
    watermark_to: datetime | None = utc_field(nullable=True)
    files: list[Any] = json_field(default=list)
    errors: list[Any] = json_field(default=list)


class SyncWatermark(SQLModel, table=True):
    __tablename__ = "sync_watermarks"

    stream: str = Field(primary_key=True, max_length=40)
    value: datetime = utc_field()
    updated_at: datetime = utc_field()


class SapWarehouse(SQLModel, table=True):
    """The last seen OWHS row (small: read whole on every run)."""

    __tablename__ = "sap_warehouses"

    code: str = Field(primary_key=True, max_length=20)
    name: str = Field(default="", max_length=200)
    inactive: bool = False
    nettable: bool = True
    drop_ship: bool = False
    seen_at: datetime = utc_field()


class ItemState(SQLModel, table=True):
    """One SAP item as last seen, and the variant row last sent to IP for it."""

    __tablename__ = "sync_items"

    sku: str = Field(primary_key=True, max_length=50)
    name: str = Field(default="", max_length=200)
    barcode: str | None = Field(default=None, max_length=100)
    group_code: int | None = None
    avg_price: float = 0.0
    live: bool = True
    excluded_rule: str | None = Field(default=None, max_length=40)
    sap_created: str | None = Field(default=None, max_length=10)
    sap_updated_at: datetime | None = utc_field(nullable=True)
    # Not indexed: the only reader (a full run's missing-items pass) walks the table by SKU, and
    # every run moves seen_at for every item it reads.
    seen_at: datetime = utc_field()
    missing_since: datetime | None = utc_field(nullable=True)
    # What the item's evaluation depended on when last stored (rules.item_hasher): the item as
    # SAP sent it and the run's routing. Equal again after a successful run => nothing to do.
    digest: str | None = Field(default=None, max_length=32)
    sent_hash: str | None = Field(default=None, max_length=64)
    sent_removed: bool = False
    sent_at: datetime | None = utc_field(nullable=True)
    pending_hash: str | None = Field(default=None, max_length=64)
    pending_removed: bool = False
    pending_run_id: str | None = Field(default=None, max_length=32, index=True)
    # IP's own view from GET /variants (reconcile job); None until the first reconcile.
    ip_removed: bool | None = None
    ip_seen_at: datetime | None = utc_field(nullable=True)


class StockSnapshot(SQLModel, table=True):
    """SAP's stock of one SKU in one SAP warehouse (OITW), with the rule that kept it out of IP."""

    __tablename__ = "stock_snapshots"

    sku: str = Field(primary_key=True, max_length=50)
    sap_warehouse: str = Field(primary_key=True, max_length=20, index=True)
    on_hand: float = 0.0
    committed: float = 0.0
    ordered: float = 0.0
    available: float = 0.0
    ip_warehouse_id: str | None = Field(default=None, max_length=100)
    excluded_rule: str | None = Field(default=None, max_length=40)
    sap_updated_at: datetime | None = utc_field(nullable=True)
    seen_at: datetime = utc_field()
    changed_at: datetime = utc_field(index=True)


class IpStock(SQLModel, table=True):
    """One SKU in one IP warehouse: what SAP implies, what was sent, and what IP reported back."""

    __tablename__ = "ip_stock"

    sku: str = Field(primary_key=True, max_length=50)
    ip_warehouse_id: str = Field(primary_key=True, max_length=100, index=True)
    sap_available: float = 0.0
    live: bool = True
    sent_value: float | None = None
    sent_removed: bool = False
    sent_at: datetime | None = utc_field(nullable=True)
    sent_file: str | None = Field(default=None, max_length=200)
    pending_value: float | None = None
    pending_removed: bool = False
    pending_run_id: str | None = Field(default=None, max_length=32, index=True)
    ip_in_stock: float | None = None
    ip_seen_at: datetime | None = utc_field(nullable=True)
    changed_at: datetime = utc_field(index=True)


class IpWarehouseState(SQLModel, table=True):
    """A mapped IP warehouse and the warehouse row last sent for it (first sync and changes only)."""

    __tablename__ = "ip_warehouses_sent"

    ip_warehouse_id: str = Field(primary_key=True, max_length=100)
    display_name: str = Field(default="", max_length=200)
    sent_hash: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = utc_field(nullable=True)


class PoReceipt(SQLModel, table=True):
    """The cumulative received quantity last PATCHed onto one IP PO line (absolute, so idempotent)."""

    __tablename__ = "po_receipts"

    ip_po_id: str = Field(primary_key=True, max_length=100)
    ip_line_id: str = Field(primary_key=True, max_length=100)
    sap_doc_entry: int | None = None
    sku: str = Field(default="", max_length=50)
    received: float = 0.0
    sent_at: datetime = utc_field()


class GrpoLine(SQLModel, table=True):
    """One GRPO line copied from a SAP PO line (BaseType 22), as last read from SAP.

    The Service Layer cannot filter documents by a line's BaseEntry (no `any()` on lines, and
    `$crossjoin` over documents is not dependable), so receipts keep their own ledger: a PO line's
    received total is the sum over every GRPO line ever seen for it, which makes re-reads of an
    overlapping window (and replays) harmless."""

    __tablename__ = "sap_grpo_lines"

    doc_entry: int = Field(primary_key=True)
    line_num: int = Field(primary_key=True)
    doc_num: int | None = None
    base_entry: int = Field(index=True)  # the SAP PO's DocEntry
    base_line: int  # the SAP PO's LineNum
    item_code: str = Field(default="", max_length=50)
    quantity: float = 0.0
    cancelled: bool = False
    seen_at: datetime = utc_field()

"""Feed delivery log (Advanced CSV over SFTP) and the Starter hosted feed (connectors, snapshots)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import id_field, utc_field


class DeliveryStatus(StrEnum):
    queued = "queued"
    delivered = "delivered"


class FeedDelivery(SQLModel, table=True):
    """One validated Advanced CSV file waiting for, or done with, its SFTP upload.

    Files go out strictly in (created_at, ordinal) order: IP processes them oldest first and needs
    warehouses and variants before the variant-warehouse rows that refer to them (reference §2.2).
    """

    __tablename__ = "feed_deliveries"

    id: str = id_field()
    entity: str = Field(max_length=40)
    file_name: str = Field(max_length=200, unique=True)
    local_path: str = Field(max_length=1000)
    rows: int = 0
    sha256: str = Field(max_length=64)
    size: int = 0
    run_id: str | None = Field(default=None, max_length=32, index=True)
    status: DeliveryStatus = Field(default=DeliveryStatus.queued, sa_type=String(10), index=True)
    ordinal: int = 0
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = utc_field(index=True)
    delivered_at: datetime | None = utc_field(nullable=True)


class StarterConnector(SQLModel, table=True):
    """One Starter CSV connector (= one IP warehouse) and the basic-auth credentials IP uses."""

    __tablename__ = "starter_connectors"

    id: str = id_field()
    name: str = Field(max_length=100, unique=True)
    ip_warehouse_id: str = Field(max_length=100, index=True)
    username: str = Field(max_length=100)
    password_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class StarterSnapshot(SQLModel, table=True):
    """The last *complete* products file of an IP warehouse. Swapping this row is the atomic publish:
    a build writes a new file first and only then points here, so a failed build changes nothing."""

    __tablename__ = "starter_snapshots"

    ip_warehouse_id: str = Field(primary_key=True, max_length=100)
    path: str = Field(max_length=1000)
    rows: int = 0
    sha256: str = Field(max_length=64)
    size: int = 0
    built_at: datetime = utc_field()
    run_id: str | None = Field(default=None, max_length=32)

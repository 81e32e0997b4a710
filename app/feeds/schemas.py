"""API shapes of the feeds: delivery log rows and Starter connectors (never their passwords)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    entity: str
    file_name: str
    rows: int
    sha256: str
    status: str
    attempts: int
    last_error: str | None
    run_id: str | None
    created_at: datetime
    delivered_at: datetime | None


class ConnectorIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")
    ip_warehouse_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=12, max_length=200)


class ConnectorPatch(BaseModel):
    ip_warehouse_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,100}$")
    username: str | None = Field(default=None, min_length=1, max_length=100)
    password: str | None = Field(default=None, min_length=12, max_length=200)
    active: bool | None = None


class ConnectorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    ip_warehouse_id: str
    username: str
    active: bool
    created_at: datetime
    updated_at: datetime
    url_path: str = ""

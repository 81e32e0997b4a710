"""API keys: stored as a SHA-256 hash (the keys are 256-bit random, so a slow hash buys nothing)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import id_field, utc_field


class Scope(StrEnum):
    read = "read"
    write = "write"
    admin = "admin"

    @property
    def rank(self) -> int:
        return ("read", "write", "admin").index(self.value)

    def allows(self, needed: Scope) -> bool:
        return self.rank >= needed.rank


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: str = id_field()
    name: str = Field(max_length=100, index=True)
    scope: Scope = Field(sa_type=String(10))  # enums stored as plain strings: no DB enum types to migrate
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = utc_field()
    last_used_at: datetime | None = utc_field(nullable=True)
    revoked_at: datetime | None = utc_field(nullable=True)

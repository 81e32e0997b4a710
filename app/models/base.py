"""Column helpers shared by the tables: UTC timestamps, JSON, string ids."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field

from app.kit.time import as_utc, utcnow

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend: SQLite stores no zone and hands back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def new_id() -> str:
    return uuid.uuid4().hex


def id_field() -> Any:
    return Field(default_factory=new_id, primary_key=True, max_length=32)


def utc_field(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware timestamp; non-nullable ones default to now, nullable ones to None."""
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


def json_field(*, nullable: bool = False, default: Any = dict) -> Any:
    return Field(default_factory=default, sa_column=Column(JSONType, nullable=nullable))


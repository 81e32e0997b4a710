"""A fresh, real database per test session: a new PostgreSQL database when DATABASE_URL points at one
(so parallel runs never collide), else an SQLite file in a temporary data dir."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from app.config import normalise_database_url


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host or "127.0.0.1", port=parsed.port or 5432, user=parsed.username or "postgres",
        password=parsed.password, database=parsed.database or "postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(base_url: str | None) -> Iterator[str | None]:
    """Yield a DATABASE_URL for an empty database (None = the embedded SQLite default)."""
    if not base_url or not normalise_database_url(base_url).startswith("postgresql"):
        yield None
        return
    url = normalise_database_url(base_url)
    name = f"b1b_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

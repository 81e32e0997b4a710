"""Sessions commit in exactly one place: the request dependency or a job's `session_scope()`.

Services take a session and never commit (polar's rule), so a request or a job is one transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with session_scope(request.app.state.sessionmaker) as session:
        yield session


# scope="function": the commit runs before the response is sent, so a 2xx always means "stored"
# and a failed commit becomes an error response (FastAPI's default would commit after sending).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

"""API keys: creation (the plain key is shown once) and verification."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import repository
from app.kit.time import utcnow
from app.models.api_key import ApiKey, Scope

KEY_PREFIX = "b1b_"


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scope: Scope

    @property
    def actor(self) -> str:
        return f"apikey:{self.name}"


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


async def create_key(session: AsyncSession, *, name: str, scope: Scope) -> tuple[ApiKey, str]:
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, scope=scope, prefix=plain[: len(KEY_PREFIX) + 6], key_hash=hash_key(plain))
    await repository.add(session, key)
    return key, plain


async def authenticate(session: AsyncSession, plain: str) -> Principal | None:
    key = await repository.by_hash(session, hash_key(plain))
    if key is None or key.revoked_at is not None:
        return None
    key.last_used_at = utcnow()
    return Principal(key_id=key.id, name=key.name, scope=Scope(key.scope))


async def revoke_by_name(session: AsyncSession, name: str) -> int:
    revoked = 0
    for key in await repository.list_all(session):
        if key.name == name and key.revoked_at is None:
            key.revoked_at = utcnow()
            revoked += 1
    return revoked

"""API key management for admins (the same as `b1bridge apikey`, reachable from Swagger UI)."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.audit import service as audit_service
from app.auth import repository, service
from app.auth.deps import AdminDep
from app.auth.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut
from app.db.session import SessionDep
from app.errors import Conflict, NotFound
from app.kit.time import utcnow

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.get("", response_model=list[ApiKeyOut])
async def list_keys(session: SessionDep, _: AdminDep) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(key, from_attributes=True) for key in await repository.list_all(session)]


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_key(body: ApiKeyIn, session: SessionDep, principal: AdminDep) -> ApiKeyCreated:
    key, plain = await service.create_key(session, name=body.name, scope=body.scope)
    await audit_service.record(
        session,
        actor=principal.actor,
        action="api_key.created",
        entity_type="api_key",
        entity_id=key.id,
        after={"name": key.name, "scope": key.scope},
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(key, from_attributes=True).model_dump(), key=plain)


@router.delete("/{key_id}", response_model=ApiKeyOut)
async def revoke_key(key_id: str, session: SessionDep, principal: AdminDep) -> ApiKeyOut:
    key = await repository.get(session, key_id)
    if key is None:
        raise NotFound(f"No API key with id {key_id}.")
    if key.revoked_at is not None:
        raise Conflict("This key is already revoked.")
    if key.id == principal.key_id:
        raise Conflict("A key cannot revoke itself; use another admin key.")
    key.revoked_at = utcnow()
    await audit_service.record(
        session,
        actor=principal.actor,
        action="api_key.revoked",
        entity_type="api_key",
        entity_id=key.id,
        before={"revoked_at": None},
        after={"revoked_at": key.revoked_at.isoformat()},
    )
    return ApiKeyOut.model_validate(key, from_attributes=True)

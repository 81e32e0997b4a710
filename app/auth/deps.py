"""`Authorization: Bearer <key>` with scopes read ⊂ write ⊂ admin, shown in Swagger's Authorize button."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service
from app.auth.service import Principal
from app.db.session import SessionDep
from app.errors import Forbidden, Unauthorized
from app.models.api_key import Scope

bearer = HTTPBearer(auto_error=False, description="An API key made with `b1bridge apikey create`.")


def require(needed: Scope):  # type: ignore[no-untyped-def]
    async def dependency(
        request: Request,
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
        principal = await service.authenticate(session, credentials.credentials)
        if principal is None:
            raise Unauthorized("The API key is unknown or revoked.")
        if not principal.scope.allows(needed):
            raise Forbidden(f"This needs the `{needed.value}` scope; the key has `{principal.scope.value}`.")
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{needed.value}"
    return dependency


ReadDep = Annotated[Principal, Depends(require(Scope.read))]
WriteDep = Annotated[Principal, Depends(require(Scope.write))]
AdminDep = Annotated[Principal, Depends(require(Scope.admin))]

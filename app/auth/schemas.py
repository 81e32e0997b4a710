from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.models.api_key import Scope


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w .@-]+$")
    scope: Scope = Scope.read


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scope: Scope
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself. It is shown only in this response; store it now.")

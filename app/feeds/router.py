"""Feed routes: the Starter products file IP fetches (HTTP basic auth per connector), connector
administration, and the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import FileResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from app.auth.deps import AdminDep, ReadDep
from app.db.session import SessionDep
from app.errors import NotFound, Unauthorized
from app.feeds import service
from app.feeds.schemas import ConnectorIn, ConnectorOut, ConnectorPatch, DeliveryOut
from app.models.feeds import StarterConnector

router = APIRouter(prefix="/feeds", tags=["feeds"])
basic = HTTPBasic(auto_error=False, realm="b1bridge starter feed")
CHALLENGE = {"WWW-Authenticate": 'Basic realm="b1bridge starter feed"'}


def _out(row: StarterConnector) -> ConnectorOut:
    out = ConnectorOut.model_validate(row)
    out.url_path = f"/feeds/starter/{row.name}/products.csv"
    return out


STARTER_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "The last complete snapshot",
          "content": {"text/csv": {"schema": {"type": "string"}}}},
    304: {"description": "Not modified since the ETag / date the client sent"},
}


@router.get("/starter/{connector}/products.csv", response_class=FileResponse, responses=STARTER_RESPONSES,
            operation_id="starter_products_get", summary="Starter CSV products file (IP fetches this)")
@router.head("/starter/{connector}/products.csv", response_class=FileResponse, responses=STARTER_RESPONSES,
             operation_id="starter_products_head", summary="Check the Starter CSV products file (IP's HEAD)")
async def starter_products(
    connector: str,
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
) -> Response:
    if credentials is None:
        raise Unauthorized("This feed needs the connector's HTTP Basic credentials.", headers=CHALLENGE)
    found = await service.authenticate(session, connector, credentials.username, credentials.password)
    if found is None:
        raise Unauthorized("Unknown connector or wrong credentials.", headers=CHALLENGE)
    served = await service.served_file(session, found)
    if served is None:  # no complete snapshot yet: better no file than a partial one
        raise NotFound("No complete snapshot has been built for this connector yet.")
    headers = {"ETag": served.etag, "Last-Modified": served.last_modified_http, "Cache-Control": "no-cache"}
    if served.not_modified(request.headers.get("if-none-match"), request.headers.get("if-modified-since")):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return FileResponse(
        served.path,
        media_type="text/csv; charset=utf-8",
        headers=headers,
        filename="products.csv",
        content_disposition_type="inline",
    )


@router.get("/starter/connectors", response_model=list[ConnectorOut])
async def list_connectors(session: SessionDep, principal: AdminDep) -> list[ConnectorOut]:
    from app.feeds import repository

    return [_out(r) for r in await repository.connectors(session)]


@router.post("/starter/connectors", response_model=ConnectorOut, status_code=201)
async def create_connector(body: ConnectorIn, session: SessionDep, principal: AdminDep) -> ConnectorOut:
    row = await service.create_connector(session, **body.model_dump(), actor=principal.actor)
    return _out(row)


@router.get("/starter/connectors/{name}", response_model=ConnectorOut)
async def get_connector(name: str, session: SessionDep, principal: AdminDep) -> ConnectorOut:
    return _out(await service.get_connector(session, name))


@router.patch("/starter/connectors/{name}", response_model=ConnectorOut)
async def patch_connector(
    name: str, body: ConnectorPatch, session: SessionDep, principal: AdminDep
) -> ConnectorOut:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return _out(await service.update_connector(session, name, changes, actor=principal.actor))


@router.delete("/starter/connectors/{name}", status_code=204)
async def delete_connector(name: str, session: SessionDep, principal: AdminDep) -> Response:
    await service.delete_connector(session, name, actor=principal.actor)
    return Response(status_code=204)


@router.get("/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(session: SessionDep, principal: ReadDep, limit: int = 100) -> list[DeliveryOut]:
    return [DeliveryOut.model_validate(d) for d in await service.deliveries(session, min(max(limit, 1), 500))]

"""/mappings: reads need the read scope; every change needs admin and is audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.datastructures import UploadFile

from app.auth.deps import AdminDep, ReadDep
from app.db.session import SessionDep
from app.errors import BadRequest
from app.mappings import importer
from app.mappings import service as mappings
from app.mappings.schemas import (
    ImportReport,
    ItemGroupFields,
    ItemGroupMappingIn,
    ItemGroupMappingOut,
    ItemGroupMappingPatch,
    MappingKind,
    VendorFields,
    VendorMappingIn,
    VendorMappingOut,
    VendorMappingPatch,
    WarehouseFields,
    WarehouseMappingIn,
    WarehouseMappingOut,
    WarehouseMappingPatch,
)

router = APIRouter(prefix="/mappings", tags=["mappings"])

W, G, V = MappingKind.warehouses, MappingKind.item_groups, MappingKind.vendors
WarehouseCode = Annotated[str, Path(max_length=8, description="SAP WarehouseCode")]
GroupCode = Annotated[int, Path(ge=1, le=2_147_483_647, description="SAP ItmsGrpCod")]
# `:path` because IP vendor names may contain slashes.
IpVendor = Annotated[str, Path(max_length=200, description="The vendor as IP sends it")]

IMPORT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                       "properties": {"file": {"type": "string", "format": "binary"}}}},
}}}


# --- bulk import and export (declared first: /{kind}/export must win over /warehouses/{code}) ----

@router.post("/{kind}/import", response_model=ImportReport, openapi_extra=IMPORT_BODY,
             summary="Validate every row, then apply all of them or none (upsert by natural key)",
             responses={422: {"description": "At least one row is invalid; the problem carries `report`"}})
async def import_mappings(kind: MappingKind, request: Request, session: SessionDep, principal: AdminDep,
                          dry_run: Annotated[bool, Query()] = False) -> ImportReport:
    body, content_type, filename = await _upload(request)
    rows = importer.parse(body, content_type, filename)
    return await mappings.import_rows(session, kind, rows, actor=principal.actor, dry_run=dry_run)


@router.get("/{kind}/export", response_model=list[dict[str, Any]],
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
            summary="All mappings of a kind, in the import format")
async def export_mappings(kind: MappingKind, session: SessionDep, _: ReadDep,
                          format: Annotated[Literal["csv", "json"], Query()] = "json") -> Any:
    rows = await mappings.export_rows(session, kind)
    if format == "json":
        return rows
    return Response(importer.to_csv(mappings.SPECS[kind].columns, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{kind.value}.csv"'})


async def _upload(request: Request) -> tuple[bytes, str, str | None]:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return await request.body(), content_type, None
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise BadRequest("Upload the file in a form field called `file`.")
    return await upload.read(), upload.content_type or "text/csv", upload.filename


# --- warehouses ---------------------------------------------------------------------------------

@router.get("/warehouses", response_model=list[WarehouseMappingOut])
async def list_warehouses(session: SessionDep, _: ReadDep) -> list[Any]:
    return [*await mappings.list_mappings(session, W)]


@router.get("/warehouses/{code}", response_model=WarehouseMappingOut)
async def get_warehouse(code: WarehouseCode, session: SessionDep, _: ReadDep) -> Any:
    return await mappings.get_mapping(session, W, code)


@router.post("/warehouses", response_model=WarehouseMappingOut, status_code=201,
             summary="Map an SAP warehouse (409 if it would join a non-aggregate IP warehouse)")
async def create_warehouse(body: WarehouseMappingIn, session: SessionDep, principal: AdminDep) -> Any:
    return await mappings.create_mapping(session, W, body, actor=principal.actor)


@router.put("/warehouses/{code}", response_model=WarehouseMappingOut)
async def replace_warehouse(code: WarehouseCode, body: WarehouseFields, session: SessionDep,
                            principal: AdminDep) -> Any:
    return await mappings.replace_mapping(session, W, code, body, actor=principal.actor)


@router.patch("/warehouses/{code}", response_model=WarehouseMappingOut)
async def patch_warehouse(code: WarehouseCode, body: WarehouseMappingPatch, session: SessionDep,
                          principal: AdminDep) -> Any:
    return await mappings.patch_mapping(session, W, code, body, actor=principal.actor)


@router.delete("/warehouses/{code}", response_model=WarehouseMappingOut, summary="Delete; returns what was")
async def delete_warehouse(code: WarehouseCode, session: SessionDep, principal: AdminDep) -> Any:
    row = WarehouseMappingOut.model_validate(await mappings.get_mapping(session, W, code))
    await mappings.delete_mapping(session, W, code, actor=principal.actor)
    return row


# --- item groups --------------------------------------------------------------------------------

@router.get("/item-groups", response_model=list[ItemGroupMappingOut])
async def list_item_groups(session: SessionDep, _: ReadDep) -> list[Any]:
    return [*await mappings.list_mappings(session, G)]


@router.get("/item-groups/{code}", response_model=ItemGroupMappingOut)
async def get_item_group(code: GroupCode, session: SessionDep, _: ReadDep) -> Any:
    return await mappings.get_mapping(session, G, code)


@router.post("/item-groups", response_model=ItemGroupMappingOut, status_code=201)
async def create_item_group(body: ItemGroupMappingIn, session: SessionDep, principal: AdminDep) -> Any:
    return await mappings.create_mapping(session, G, body, actor=principal.actor)


@router.put("/item-groups/{code}", response_model=ItemGroupMappingOut)
async def replace_item_group(code: GroupCode, body: ItemGroupFields, session: SessionDep,
                             principal: AdminDep) -> Any:
    return await mappings.replace_mapping(session, G, code, body, actor=principal.actor)


@router.patch("/item-groups/{code}", response_model=ItemGroupMappingOut)
async def patch_item_group(code: GroupCode, body: ItemGroupMappingPatch, session: SessionDep,
                           principal: AdminDep) -> Any:
    return await mappings.patch_mapping(session, G, code, body, actor=principal.actor)


@router.delete("/item-groups/{code}", response_model=ItemGroupMappingOut, summary="Delete; returns what was")
async def delete_item_group(code: GroupCode, session: SessionDep, principal: AdminDep) -> Any:
    row = ItemGroupMappingOut.model_validate(await mappings.get_mapping(session, G, code))
    await mappings.delete_mapping(session, G, code, actor=principal.actor)
    return row


# --- vendors ------------------------------------------------------------------------------------

@router.get("/vendors", response_model=list[VendorMappingOut])
async def list_vendors(session: SessionDep, _: ReadDep) -> list[Any]:
    return [*await mappings.list_mappings(session, V)]


@router.get("/vendors/{ip_vendor:path}", response_model=VendorMappingOut)
async def get_vendor(ip_vendor: IpVendor, session: SessionDep, _: ReadDep) -> Any:
    return await mappings.get_mapping(session, V, ip_vendor)


@router.post("/vendors", response_model=VendorMappingOut, status_code=201)
async def create_vendor(body: VendorMappingIn, session: SessionDep, principal: AdminDep) -> Any:
    return await mappings.create_mapping(session, V, body, actor=principal.actor)


@router.put("/vendors/{ip_vendor:path}", response_model=VendorMappingOut)
async def replace_vendor(ip_vendor: IpVendor, body: VendorFields, session: SessionDep,
                         principal: AdminDep) -> Any:
    return await mappings.replace_mapping(session, V, ip_vendor, body, actor=principal.actor)


@router.patch("/vendors/{ip_vendor:path}", response_model=VendorMappingOut)
async def patch_vendor(ip_vendor: IpVendor, body: VendorMappingPatch, session: SessionDep,
                       principal: AdminDep) -> Any:
    return await mappings.patch_mapping(session, V, ip_vendor, body, actor=principal.actor)


@router.delete("/vendors/{ip_vendor:path}", response_model=VendorMappingOut,
               summary="Delete; returns what was")
async def delete_vendor(ip_vendor: IpVendor, session: SessionDep, principal: AdminDep) -> Any:
    row = VendorMappingOut.model_validate(await mappings.get_mapping(session, V, ip_vendor))
    await mappings.delete_mapping(session, V, ip_vendor, actor=principal.actor)
    return row

"""Mapping admin and the lookups other domains call (`from app.mappings import service as mapping_service`).

Services take the session and never commit. Every change is audited with before/after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit import service as audit
from app.errors import Conflict, NotFound, Unprocessable
from app.kit.time import utcnow
from app.mappings import importer, repository, rules
from app.mappings.importer import ParsedRow
from app.mappings.schemas import (
    ImportReport,
    ItemGroupMappingIn,
    MappingKind,
    RowError,
    RowReport,
    VendorMappingIn,
    WarehouseMappingIn,
)
from app.models.mapping import ItemGroupMapping, VendorMapping, WarehouseMapping, WarehouseMode


@dataclass(frozen=True)
class KindSpec:
    kind: MappingKind
    model: type[SQLModel]
    key: str
    entity_type: str
    row_schema: type[BaseModel]  # a full row: POST bodies, import rows, export rows
    nullable: frozenset[str] = frozenset()

    @property
    def columns(self) -> list[str]:
        return [self.key, *(name for name in self.row_schema.model_fields if name != self.key)]


SPECS: dict[MappingKind, KindSpec] = {
    MappingKind.warehouses: KindSpec(MappingKind.warehouses, WarehouseMapping, "sap_warehouse_code",
                                     "warehouse_mapping", WarehouseMappingIn,
                                     nullable=frozenset({"ip_warehouse_name"})),
    MappingKind.item_groups: KindSpec(MappingKind.item_groups, ItemGroupMapping, "sap_group_code",
                                      "item_group_mapping", ItemGroupMappingIn),
    MappingKind.vendors: KindSpec(MappingKind.vendors, VendorMapping, "ip_vendor", "vendor_mapping",
                                  VendorMappingIn),
}


# --- lookups for other domains -------------------------------------------------------------------

async def warehouse_map(session: AsyncSession) -> dict[str, WarehouseMapping]:
    """Active warehouse mappings by SAP WarehouseCode."""
    return {row.sap_warehouse_code: row for row in await repository.active_warehouses(session)}


async def sap_warehouse_for_ip(session: AsyncSession, ip_warehouse_id: str) -> list[WarehouseMapping]:
    """The active SAP warehouses behind an IP warehouse (several only when all are `aggregate`)."""
    return [*await repository.warehouses_for_ip(session, ip_warehouse_id)]


async def item_group_map(session: AsyncSession) -> dict[int, ItemGroupMapping]:
    rows = await repository.all_rows(session, ItemGroupMapping, order_by="sap_group_code")
    return {row.sap_group_code: row for row in rows}


async def card_code_for_vendor(session: AsyncSession, ip_vendor: str) -> str | None:
    row = await repository.vendor(session, ip_vendor.strip())
    return row.sap_card_code if row else None


# --- CRUD ----------------------------------------------------------------------------------------

async def list_mappings(session: AsyncSession, kind: MappingKind) -> Sequence[Any]:
    spec = SPECS[kind]
    return await repository.all_rows(session, spec.model, order_by=spec.key)


async def get_mapping(session: AsyncSession, kind: MappingKind, key: Any) -> Any:
    spec = SPECS[kind]
    row = await repository.by_key(session, spec.model, spec.key, _key(kind, key))
    if row is None:
        raise NotFound(f"No {kind} mapping for {spec.key}={key}.")
    return row


async def create_mapping(session: AsyncSession, kind: MappingKind, data: BaseModel, *, actor: str) -> Any:
    spec = SPECS[kind]
    values = data.model_dump()
    key = values[spec.key]
    if await repository.by_key(session, spec.model, spec.key, key) is not None:
        raise Conflict(f"A {kind} mapping for {spec.key}={key} exists; change it with PUT or PATCH.")
    await _check(session, kind, values)
    row = spec.model(**values)
    await _flush(session, row, add=True)
    await audit.record(session, actor=actor, action="mapping.created", entity_type=spec.entity_type,
                       entity_id=str(key), after=_snapshot(spec, row))
    await _after_change(session, kind, f"{kind} mapping {key} created")
    return row


async def replace_mapping(session: AsyncSession, kind: MappingKind, key: Any, data: BaseModel, *,
                          actor: str) -> Any:
    return await _update(session, kind, key, data.model_dump(), actor=actor, action="mapping.replaced")


async def patch_mapping(session: AsyncSession, kind: MappingKind, key: Any, data: BaseModel, *,
                        actor: str) -> Any:
    spec = SPECS[kind]
    # null clears a nullable field; on any other field it means "leave as is".
    changes = {name: value for name, value in data.model_dump(exclude_unset=True).items()
               if value is not None or name in spec.nullable}
    return await _update(session, kind, key, changes, actor=actor, action="mapping.updated")


async def delete_mapping(session: AsyncSession, kind: MappingKind, key: Any, *, actor: str) -> None:
    spec = SPECS[kind]
    row = await get_mapping(session, kind, key)
    before = _snapshot(spec, row)
    await repository.delete(session, row)
    await audit.record(session, actor=actor, action="mapping.deleted", entity_type=spec.entity_type,
                       entity_id=str(before[spec.key]), before=before)
    await _after_change(session, kind, f"{kind} mapping {before[spec.key]} deleted", deleted=True)


async def _update(session: AsyncSession, kind: MappingKind, key: Any, changes: dict[str, Any], *,
                  actor: str, action: str, note: str | None = None, check: bool = True,
                  notify: bool = True) -> Any:
    spec = SPECS[kind]
    row = await get_mapping(session, kind, key)
    before = _snapshot(spec, row)
    values = {**before, **changes}
    if check:
        await _check(session, kind, values)
    if values == before:
        return row
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = utcnow()  # type: ignore[attr-defined]
    await _flush(session, row)
    await audit.record(session, actor=actor, action=action, entity_type=spec.entity_type,
                       entity_id=str(before[spec.key]), before=before, after=_snapshot(spec, row), note=note)
    if notify:
        await _after_change(session, kind, f"{kind} mapping {before[spec.key]} changed")
    return row


async def _after_change(session: AsyncSession, kind: MappingKind, reason: str, *,
                        deleted: bool = False) -> None:
    """Routing changed: an incremental run keeps what it routed before, so ask for a full stock
    sync (single-flight, through the sync service). A new or changed vendor or warehouse mapping
    may also unblock recommendations: re-validate the blocked ones (their UNMAPPED_* then clear)."""
    from app.recommendations import revalidate
    from app.sync import service as sync_service

    if kind in (MappingKind.warehouses, MappingKind.item_groups):
        await sync_service.request_full_later(session, reason=reason)
    if kind in (MappingKind.warehouses, MappingKind.vendors) and not deleted:
        await revalidate.request(session, reason=reason)


async def _flush(session: AsyncSession, row: SQLModel, *, add: bool = False) -> None:
    try:
        await (repository.add(session, row) if add else repository.flush(session))
    except IntegrityError:
        # Two admins saving the same key at once: the loser gets a clean 409, not a 500.
        raise Conflict("The mapping was changed concurrently; reload it and try again.")


# --- the many-to-one warehouse rule --------------------------------------------------------------

def _link(values: dict[str, Any]) -> rules.WarehouseLink:
    return rules.WarehouseLink(sap_warehouse_code=values["sap_warehouse_code"],
                               ip_warehouse_id=values["ip_warehouse_id"],
                               mode=WarehouseMode(values["mode"]), active=bool(values["active"]))


async def _existing_links(session: AsyncSession) -> list[rules.WarehouseLink]:
    rows = await repository.all_rows(session, WarehouseMapping, order_by="sap_warehouse_code")
    return [_link(_snapshot(SPECS[MappingKind.warehouses], row)) for row in rows]


async def _check(session: AsyncSession, kind: MappingKind, values: dict[str, Any]) -> None:
    if kind is not MappingKind.warehouses:
        return
    candidate = _link(values)
    clashing = rules.conflict_for(candidate, await _existing_links(session))
    if clashing:
        raise Conflict(rules.explain_conflict(candidate, clashing),
                       conflicting_sap_warehouses=[link.sap_warehouse_code for link in clashing])


# --- bulk import and export ----------------------------------------------------------------------

async def import_rows(session: AsyncSession, kind: MappingKind, raw_rows: list[dict[str, Any]], *,
                      actor: str, dry_run: bool) -> ImportReport:
    """Validate every row, then apply all of them or none (upsert by natural key)."""
    spec = SPECS[kind]
    existing = {getattr(row, spec.key): _snapshot(spec, row) for row in await list_mappings(session, kind)}
    parsed = importer.validate(spec.row_schema, [_over_current(spec, raw, existing) for raw in raw_rows])
    finals = _merge(spec, parsed)
    if kind is MappingKind.warehouses:
        _check_file_links(parsed, finals, existing)
    report = _report(spec, parsed, finals, existing, dry_run=dry_run)
    if not report.ok:
        failed = [r for r in report.rows if not r.ok]
        raise Unprocessable(f"{len(failed)} of {len(report.rows)} rows are not valid; nothing was imported.",
                            errors=[{"row": r.row, "field": e.field, "message": e.message}
                                    for r in failed for e in r.errors],
                            report=report.model_dump(mode="json"))
    if not dry_run:
        await _apply(session, kind, report, finals, existing, actor=actor)
        report.applied = True
    return report


def _over_current(spec: KindSpec, raw: dict[str, Any], existing: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    """Upsert: a row for an existing key only needs the fields it changes; the rest are the current ones."""
    if raw.get(spec.key) is None:
        return raw
    try:
        current = existing.get(_key(spec.kind, raw[spec.key]))
    except (TypeError, ValueError):
        return raw  # an unreadable key: the row's validation reports it
    return {**current, **raw} if current else raw


def _merge(spec: KindSpec, parsed: list[ParsedRow]) -> dict[int, dict[str, Any]]:
    """Each valid row's final values by row number; a key given twice is an error on the later row."""
    finals: dict[int, dict[str, Any]] = {}
    seen: dict[Any, int] = {}
    for row in parsed:
        if row.model is None:
            continue
        key = getattr(row.model, spec.key)
        if key in seen:
            row.errors.append(RowError(field=spec.key, message=f"{key} is also on row {seen[key]}"))
            continue
        seen[key] = row.number
        finals[row.number] = {name: _plain(value) for name, value in row.model.model_dump().items()}
    return finals


def _check_file_links(parsed: list[ParsedRow], finals: dict[int, dict[str, Any]],
                      existing: dict[Any, dict[str, Any]]) -> None:
    by_code = {code: _link(values) for code, values in existing.items()}
    by_code.update({values["sap_warehouse_code"]: _link(values) for values in finals.values()})
    broken = rules.violations(by_code.values())
    for row in parsed:
        values = finals.get(row.number)
        if values is None:
            continue
        link = _link(values)
        group = broken.get(link.ip_warehouse_id, [])
        if link in group:
            clashing = [other for other in group if other.sap_warehouse_code != link.sap_warehouse_code]
            row.errors.append(RowError(field="mode", message=rules.explain_conflict(link, clashing)))


def _report(spec: KindSpec, parsed: list[ParsedRow], finals: dict[int, dict[str, Any]],
            existing: dict[Any, dict[str, Any]], *, dry_run: bool) -> ImportReport:
    rows, counts = [], {"created": 0, "updated": 0, "unchanged": 0}
    for row in parsed:
        values = finals.get(row.number)
        key = values[spec.key] if values else (row.raw.get(spec.key) if isinstance(row.raw, dict) else None)
        action = None
        if values is not None and not row.errors:
            current = existing.get(values[spec.key])
            action = "created" if current is None else ("unchanged" if current == values else "updated")
            counts[action] += 1
        rows.append(RowReport(row=row.number, ok=not row.errors, key=None if key is None else str(key),
                              action=action, errors=row.errors))
    ok = all(r.ok for r in rows)
    return ImportReport(kind=spec.kind, dry_run=dry_run, applied=False, ok=ok, rows=rows,
                        **(counts if ok else {}))


async def _apply(session: AsyncSession, kind: MappingKind, report: ImportReport,
                 finals: dict[int, dict[str, Any]], existing: dict[Any, dict[str, Any]], *,
                 actor: str) -> None:
    # The file was checked as a whole; re-checking row by row would trip over intermediate states
    # (moving W01 away and W02 in, say) that the finished import never has.
    spec = SPECS[kind]
    for row in report.rows:
        values = finals[row.row]
        if row.action == "created":
            new = spec.model(**values)
            await _flush(session, new, add=True)
            await audit.record(session, actor=actor, action="mapping.created", entity_type=spec.entity_type,
                               entity_id=str(values[spec.key]), after=_snapshot(spec, new),
                               note="bulk import")
        elif row.action == "updated":
            current = existing[values[spec.key]]
            changes = {k: v for k, v in values.items() if current.get(k) != v}
            await _update(session, kind, values[spec.key], changes, actor=actor, action="mapping.updated",
                          note="bulk import", check=False, notify=False)
    if any(row.action in ("created", "updated") for row in report.rows):
        await _after_change(session, kind, f"{kind} mappings imported")  # once for the whole file


async def export_rows(session: AsyncSession, kind: MappingKind) -> list[dict[str, Any]]:
    """Rows in import shape, so an export can be edited and imported back unchanged."""
    spec = SPECS[kind]
    return [_snapshot(spec, row) for row in await list_mappings(session, kind)]


def _snapshot(spec: KindSpec, row: Any) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in spec.columns}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, WarehouseMode) else value


def _key(kind: MappingKind, key: Any) -> Any:
    if kind is MappingKind.item_groups:
        return int(key)
    return str(key).strip()

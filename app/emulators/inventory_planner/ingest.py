"""Advanced CSV intake (reference §2.2): what IP does with the files in its SFTP folders.

Per entity folder, in dependency order: complete files only, oldest first; a file whose header
breaks the spec is skipped whole (IP says nothing, we record why); rows referring to unknown
variants or warehouses are skipped; processed files move to `processed/` so they never run twice.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.emulators.inventory_planner import dates, specs
from app.emulators.inventory_planner.catalog import Catalog

PROCESSED = "processed"
TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".uploading", "~")
TEMP_PREFIXES = (".", "~", "_tmp")


@dataclass
class FileReport:
    entity: str
    name: str
    status: str  # "ingested" | "skipped"
    reason: str | None = None
    rows: int = 0
    rows_skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "rows": self.rows,
            "rows_skipped": self.rows_skipped,
        }


class RowError(ValueError):
    pass


StockOrderSink = Callable[[str, list[dict[str, str]]], None]


@dataclass
class Ingestor:
    root: Path
    catalog: Catalog
    stock_orders: StockOrderSink
    open_uploads: set[str] = field(default_factory=set)  # paths the SFTP server is still writing
    processed_names: dict[str, set[str]] = field(default_factory=dict)
    superseded: list[dict[str, Any]] = field(default_factory=list)

    def note_overwrite(self, local: str) -> None:
        """A same-name upload replaced a file not yet ingested: only the newest is processed (§2.2)."""
        path = Path(local)
        if path.is_file() and path.parent.name in specs.ENTITY_FOLDERS:
            self.superseded.append(
                {"entity": path.parent.name, "name": path.name, "replaced_mtime": path.stat().st_mtime}
            )

    def run(self) -> list[FileReport]:
        reports = []
        for spec in specs.ADVANCED_SPECS:
            for path in self.pending(spec.entity):
                reports.append(self._ingest_file(spec, path))
        return reports

    def pending(self, entity: str) -> list[Path]:
        """Complete files of one folder, oldest first (mtime, then name: reference §2.2)."""
        folder = self.root / entity
        if not folder.is_dir():
            return []
        files = [p for p in folder.iterdir() if p.is_file() and self._complete(p)]
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))

    def _complete(self, path: Path) -> bool:
        # A half-written file must never be read: temp names and open uploads are not files yet.
        name = path.name.lower()
        if name.startswith(TEMP_PREFIXES) or name.endswith(TEMP_SUFFIXES):
            return False
        return str(path.resolve()) not in self.open_uploads

    def _ingest_file(self, spec: specs.FileSpec, path: Path) -> FileReport:
        report = FileReport(spec.entity, path.name, "skipped")
        seen = self.processed_names.setdefault(spec.entity, set())
        if path.name in seen:
            report.reason = "file name already processed (file names must be unique)"
        else:
            self._read_and_apply(spec, path, report)
            seen.add(path.name)
        _archive(path)
        return report

    def _read_and_apply(self, spec: specs.FileSpec, path: Path, report: FileReport) -> None:
        try:
            header, rows = _read_csv(path)
        except (UnicodeDecodeError, csv.Error) as exc:
            report.reason = f"unreadable CSV: {exc}"
            return
        problem = "empty file" if header is None else spec.column_problem(header)
        if problem:
            report.reason = problem
            return
        report.status = "ingested"
        if spec.entity == specs.STOCK_ORDERS.entity:
            self._apply_stock_orders(rows, report)
            return
        apply = ROW_HANDLERS[spec.entity]
        for number, row in enumerate(rows, start=2):
            self._apply_row(apply, number, row, report)

    def _apply_row(self, apply: RowHandler, number: int, row: dict[str, str], report: FileReport) -> None:
        try:
            apply(self.catalog, row)
            report.rows += 1
        except (RowError, ValueError) as exc:
            report.rows_skipped.append({"line": number, "reason": str(exc)})

    def _apply_stock_orders(self, rows: list[dict[str, str]], report: FileReport) -> None:
        orders: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            orders.setdefault(row["ID"], []).append(row)
        for order_id, lines in orders.items():
            try:
                self.stock_orders(order_id, lines)
                report.rows += len(lines)
            except (RowError, ValueError) as exc:
                report.rows_skipped.append({"order": order_id, "reason": str(exc)})


def _read_csv(path: Path) -> tuple[list[str] | None, list[dict[str, str]]]:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return None, []
    rows = [dict(zip(header, values, strict=False)) for values in reader if any(v.strip() for v in values)]
    return header, rows


def _archive(path: Path) -> None:
    target_dir = path.parent / PROCESSED
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    counter = 1
    while target.exists():
        target = target_dir / f"{path.name}.{counter}"
        counter += 1
    shutil.move(str(path), target)


# --- row handlers -----------------------------------------------------------------------------

RowHandler = Callable[[Catalog, dict[str, str]], None]


def _text(row: dict[str, str], key: str) -> str:
    return (row.get(key) or "").strip()


def _float(row: dict[str, str], key: str, *, optional: bool = False) -> float | None:
    value = _text(row, key)
    if not value and optional:
        return None
    try:
        return float(value)
    except ValueError:
        raise RowError(f"{key} is not a number: {value!r}")


def _stamp(row: dict[str, str], key: str) -> float | None:
    value = _text(row, key)
    try:
        return dates.parse_any(value) if value else None
    except ValueError:
        raise RowError(f"{key} is not a timestamp: {value!r}")


def _removed(row: dict[str, str]) -> bool:
    try:
        return specs.parse_bool(row.get("REMOVED", ""))
    except ValueError as exc:
        raise RowError(f"REMOVED: {exc}")


def _required_id(row: dict[str, str], key: str) -> str:
    value = _text(row, key)
    if not value:
        raise RowError(f"{key} is empty")
    return value


def apply_warehouse(catalog: Catalog, row: dict[str, str]) -> None:
    wid = catalog.api_id(_required_id(row, "WAREHOUSE_ID"))
    current = catalog.warehouses.get(wid, {})
    # Warehouses cannot be deleted in IP, only disabled (reference §3): REMOVED keeps the record.
    catalog.warehouses[wid] = {
        **current,
        "id": wid,
        "display_name": _text(row, "DISPLAY_NAME"),
        "currency": _text(row, "CURRENCY") or current.get("currency", "USD"),
        "billing_address": _text(row, "BILLING_ADDRESS"),
        "shipping_address": _text(row, "SHIPPING_ADDRESS"),
        "removed": _removed(row),
        "updated_at": _stamp(row, "UPDATED_AT"),
    }


def apply_vendor(catalog: Catalog, row: dict[str, str]) -> None:
    vid = _required_id(row, "VENDOR_ID").lower()
    catalog.vendors[vid] = {
        "id": vid,
        "name": vid,
        "display_name": _text(row, "DISPLAY_NAME"),
        "currency": _text(row, "CURRENCY"),
        "email": _text(row, "EMAIL"),
        "removed": _removed(row),
        "updated_at": _stamp(row, "UPDATED_AT"),
    }


def apply_variant(catalog: Catalog, row: dict[str, str]) -> None:
    vid = catalog.api_id(_required_id(row, "VARIANT_ID"))
    kind = _text(row, "TYPE").lower() or "simple"
    if kind not in {"simple", "bundle", "assembly"}:
        raise RowError(f"TYPE must be simple, bundle or assembly, not {kind!r}")
    catalog.variants[vid] = {
        "id": vid,
        "sku": _text(row, "SKU"),
        "title": _text(row, "TITLE"),
        "barcode": _text(row, "BARCODE"),
        "product_id": catalog.api_id(_text(row, "PRODUCT_ID")),
        "price": _float(row, "PRICE", optional=True) or 0.0,
        "type": kind,
        "image": _text(row, "IMAGE"),
        "created_at": _stamp(row, "CREATED_AT"),
        "updated_at": _stamp(row, "UPDATED_AT"),
        "removed": _removed(row),
    }


def _known(catalog: Catalog, row: dict[str, str], variant_key: str, warehouse_key: str) -> tuple[str, str]:
    """Dependency order (reference §2.2): stock and sales need their variant and warehouse first."""
    vid = catalog.api_id(_required_id(row, variant_key))
    wid = catalog.api_id(_required_id(row, warehouse_key))
    if vid not in catalog.variants:
        raise RowError(f"unknown variant {row[variant_key]}")
    if wid not in catalog.warehouses:
        raise RowError(f"unknown warehouse {row[warehouse_key]}")
    return vid, wid


def apply_variant_warehouse(catalog: Catalog, row: dict[str, str]) -> None:
    vid, wid = _known(catalog, row, "VARIANT_ID", "WAREHOUSE_ID")
    # IN_STOCK is available stock and may be negative; IP does not reject it (reference §2.2).
    catalog.stock[(vid, wid)] = {
        "in_stock": _float(row, "IN_STOCK"),
        "removed": _removed(row),
        "updated_at": _stamp(row, "UPDATED_AT"),
        **{
            key.lower(): _float(row, key, optional=True)
            for key in ("MIN_STOCK", "MAX_STOCK", "MAX_ORDER", "TRANSFER_UOM", "GROSS_WEIGHT")
        },
    }


def apply_sales_line(catalog: Catalog, row: dict[str, str]) -> None:
    vid, wid = _known(catalog, row, "VARIANT_ID", "WAREHOUSE")
    cancelled = specs.parse_bool(row.get("CANCELLED", "")) if row.get("CANCELLED") else False
    catalog.sales[_required_id(row, "ORDER_ID")] = {
        "order": _text(row, "ID"),
        "variant_id": vid,
        "warehouse": wid,
        "quantity": _float(row, "QUANTITY"),
        "price": _float(row, "PRICE", optional=True),
        "created_at": _stamp(row, "CREATED_AT"),
        "cancelled": cancelled,
        "removed": _removed(row),
    }


ROW_HANDLERS: dict[str, RowHandler] = {
    specs.WAREHOUSES.entity: apply_warehouse,
    specs.VENDORS.entity: apply_vendor,
    specs.VARIANTS.entity: apply_variant,
    specs.VARIANT_WAREHOUSES.entity: apply_variant_warehouse,
    specs.SALES_ORDERS.entity: apply_sales_line,
}

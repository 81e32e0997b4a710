"""SAP payload builders (pure). Every document line carries its own WarehouseCode: a header default
silently books multi-location stock against the wrong warehouse (seed, "Common failures")."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

ENTITY_FOR_DOC_TYPE = {
    "purchase_order": "PurchaseOrders",
    "purchase_request": "PurchaseRequests",
    "production_order": "ProductionOrders",
}
GOODS_RECEIPT = "InventoryGenEntries"
GOODS_ISSUE = "InventoryGenExits"
# Documents whose date fields follow the marketing-document model (DocDate/Comments).
COMMENT_FIELD = {"ProductionOrders": "Remarks"}


@dataclass(frozen=True)
class Line:
    line_no: int
    item_code: str
    quantity: Decimal
    warehouse_code: str
    price: Decimal | None = None


@dataclass(frozen=True)
class Header:
    entity: str
    ext_ref_udf: str
    ext_ref: str
    doc_date: date
    due_date: date | None = None
    card_code: str | None = None
    reference: str | None = None  # NumAtCard (IP PO reference) / Reference2 (adjustments)
    comments: str | None = None


def _num(value: Decimal) -> float:
    return float(value)


def apply_corrections(lines: list[Line], corrections: dict[str, Any]) -> list[Line]:
    """Corrections from POST /exceptions/{id}/retry: {"lines": [{"line_no": 1, "warehouse_code":
    "02", "quantity": 5}]}. Unknown line numbers are ignored (the caller validated them)."""
    by_no = {int(c["line_no"]): c for c in corrections.get("lines", []) if "line_no" in c}
    fixed = []
    for line in lines:
        change = by_no.get(line.line_no, {})
        fixed.append(
            replace(
                line,
                warehouse_code=change.get("warehouse_code", line.warehouse_code),
                quantity=Decimal(str(change["quantity"])) if "quantity" in change else line.quantity,
                price=Decimal(str(change["price"])) if change.get("price") is not None else line.price,
            )
        )
    return fixed


def _document_line(line: Line, *, card_code: str | None = None, vendor_line: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ItemCode": line.item_code,
        "Quantity": _num(line.quantity),
        "WarehouseCode": line.warehouse_code,
    }
    if line.price is not None:
        body["UnitPrice"] = _num(line.price)
    if vendor_line and card_code:
        body["LineVendor"] = card_code
    return body


def _common(header: Header) -> dict[str, Any]:
    body: dict[str, Any] = {"DocDate": header.doc_date.isoformat(), header.ext_ref_udf: header.ext_ref}
    if header.comments:
        body["Comments"] = header.comments[:254]
    return body


def purchase_order(header: Header, lines: list[Line]) -> dict[str, Any]:
    body = _common(header)
    body.update(
        {
            "CardCode": header.card_code,
            "DocDueDate": (header.due_date or header.doc_date).isoformat(),
            "DocumentLines": [_document_line(line) for line in lines],
        }
    )
    if header.reference:
        body["NumAtCard"] = header.reference[:100]
    return body


def purchase_request(header: Header, lines: list[Line]) -> dict[str, Any]:
    body = _common(header)
    # "RequriedDate" (sic) is the Service Layer's spelling (reference §11).
    body.update(
        {
            "RequriedDate": (header.due_date or header.doc_date).isoformat(),
            "DocumentLines": [
                _document_line(line, card_code=header.card_code, vendor_line=True) for line in lines
            ],
        }
    )
    return body


def production_order(header: Header, lines: list[Line]) -> dict[str, Any]:
    (line,) = lines  # one make item per production order
    body: dict[str, Any] = {
        "ItemNo": line.item_code,
        "PlannedQuantity": _num(line.quantity),
        "Warehouse": line.warehouse_code,
        "PostingDate": header.doc_date.isoformat(),
        "DueDate": (header.due_date or header.doc_date).isoformat(),
        header.ext_ref_udf: header.ext_ref,
    }
    if header.comments:
        body["Remarks"] = header.comments[:254]
    return body


def inventory_document(header: Header, lines: list[Line]) -> dict[str, Any]:
    """Goods Receipt / Goods Issue: quantities are positive, the entity carries the sign."""
    body = _common(header)
    body["DocumentLines"] = [
        _document_line(replace(line, quantity=abs(line.quantity), price=None)) for line in lines
    ]
    if header.reference:
        body["Reference2"] = header.reference[:11]
    return body


BUILDERS = {
    "PurchaseOrders": purchase_order,
    "PurchaseRequests": purchase_request,
    "ProductionOrders": production_order,
    GOODS_RECEIPT: inventory_document,
    GOODS_ISSUE: inventory_document,
}


def build(header: Header, lines: list[Line]) -> dict[str, Any]:
    return BUILDERS[header.entity](header, lines)


def document_date_field(entity: str) -> str:
    return "PostingDate" if entity == "ProductionOrders" else "DocDate"


def update_for(entity: str, current: dict[str, Any], created: dict[str, Any]) -> dict[str, Any]:
    """A PATCH turning the document SAP holds (`current`) into the new version (`created`): lines
    matched by (ItemCode, WarehouseCode) keep their LineNum, new lines are appended."""
    if entity == "ProductionOrders":
        return {k: created[k] for k in ("PlannedQuantity", "DueDate", "Warehouse") if k in created}
    slots = {
        (row.get("ItemCode"), row.get("WarehouseCode")): row.get("LineNum")
        for row in current.get("DocumentLines", [])
    }
    lines = []
    for line in created.get("DocumentLines", []):
        num = slots.get((line["ItemCode"], line["WarehouseCode"]))
        lines.append({**line, "LineNum": num} if num is not None else dict(line))
    # NumAtCard stays what the first version set (IP may since carry our DocNum as its reference).
    due: dict[str, Any] = {k: created[k] for k in ("DocDueDate", "RequriedDate", "Comments") if k in created}
    return {**due, "DocumentLines": lines}


def removed_lines(current: dict[str, Any], created: dict[str, Any]) -> list[dict[str, Any]]:
    """Lines SAP has that the new version dropped: a merge PATCH cannot remove them."""
    wanted = {(line["ItemCode"], line["WarehouseCode"]) for line in created.get("DocumentLines", [])}
    return [
        row
        for row in current.get("DocumentLines", [])
        if (row.get("ItemCode"), row.get("WarehouseCode")) not in wanted
    ]

"""Marketing and inventory documents: validation, stock effects, PATCH and PO actions (§11, §14.6).

A post runs in two steps so the app layer can hold row locks across the write latency:
`prepare` validates and computes the stock moves without touching anything; `commit` applies them.
Stock effects follow standard B1 (kept simple, reference §14.6): PO +Ordered; GRPO +InStock and,
against a PO line (BaseType 22), −Ordered and −RemainingOpenQuantity; goods receipt +InStock;
goods issue −InStock (never below zero); transfers move InStock between warehouses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.emulators.sap_b1 import periods, schema
from app.emulators.sap_b1.errors import SLError, business
from app.emulators.sap_b1.masterdata import check_properties, writable
from app.emulators.sap_b1.odata_filter import normalize_date
from app.emulators.sap_b1.schema import EntityType

if TYPE_CHECKING:
    from app.emulators.sap_b1.store import SapStore

Row = dict[str, Any]
_BP_SETS = {"PurchaseOrders", "PurchaseDeliveryNotes"}
_PURCHASING = {"PurchaseOrders", "PurchaseRequests"}
_OPEN_AFTER_POST = {"PurchaseOrders", "PurchaseRequests", "PurchaseDeliveryNotes"}


@dataclass
class Move:
    item_code: str
    warehouse: str
    field: str
    delta: float
    line: int  # 1-based, for the "[line: N]" of SAP's messages


@dataclass
class Prepared:
    etype: EntityType
    doc: Row
    moves: list[Move] = field(default_factory=list)
    base_draws: list[tuple[Row, Row, float]] = field(default_factory=list)  # (PO, PO line, qty)

    @property
    def lock_pairs(self) -> set[tuple[str, str]]:
        return {(m.item_code, m.warehouse) for m in self.moves}


# --- prepare -----------------------------------------------------------------------------------


def prepare(store: SapStore, etype: EntityType, body: Row) -> Prepared:
    lines_name = etype.lines or "DocumentLines"
    check_properties(store, etype, {k: v for k, v in body.items() if k != lines_name})
    doc = _header(store, etype, body)
    prepared = Prepared(etype, doc)
    raw_lines = body.get(lines_name) or []
    if not raw_lines:
        raise SLError(400, -5002, "To create this document, add at least one row")
    doc[lines_name] = [_line(store, prepared, dict(raw), n) for n, raw in enumerate(raw_lines, 1)]
    _check_negative(store, prepared, lines_name)
    return prepared


def _header(store: SapStore, etype: EntityType, body: Row) -> Row:
    doc = writable(etype, body)
    doc.pop(etype.lines or "DocumentLines", None)
    doc_date = _date(body.get("DocDate")) or store.today().isoformat()
    if etype.set_name == "PurchaseOrders" and not body.get("DocDueDate"):
        raise SLError(400, -5002, "Specify the delivery date [OPOR.DocDueDate]")
    due = _date(body.get("DocDueDate")) or doc_date
    period = periods.period_for(store.periods, doc_date)
    doc.update(
        DocDate=doc_date,
        DocDueDate=due,
        TaxDate=_date(body.get("TaxDate")) or doc_date,
        FinancialPeriod=period["AbsoluteEntry"],
        DocObjectCode=schema.OBJECT_CODES[etype.obj_type],
        DocumentStatus="bost_Open" if etype.set_name in _OPEN_AFTER_POST else "bost_Close",
        Cancelled="tNO",
    )
    if etype.set_name == "PurchaseRequests":
        doc["RequriedDate"] = _date(body.get("RequriedDate")) or due  # (sic) reference §11
    if etype.set_name in _BP_SETS:
        doc["CardName"] = _vendor(store, body.get("CardCode"))["CardName"]
    return doc


def _date(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return normalize_date(value)
    except ValueError:
        raise SLError(400, -1000, f"Invalid date value '{value}'")


def _vendor(store: SapStore, code: Any, where: str = "CardCode") -> Row:
    if not code:
        raise SLError(400, -5002, f"Specify the business partner [{where}]")
    bp = store.table("BusinessPartners").get(code)
    if bp is None:
        raise business(f"Invalid BP code '{code}' [{where}]")
    if bp["CardType"] != "cSupplier":
        raise business(f"BP '{code}' is not a vendor [{where}]")
    if bp["Valid"] != "tYES" or bp["Frozen"] == "tYES":
        raise business(f"BP '{code}' is inactive [{where}]")
    return bp


def _line(store: SapStore, prepared: Prepared, raw: Row, n: int) -> Row:
    etype = prepared.etype
    check_properties(store, etype, raw, lines=True)
    where = f"[{etype.lines}.%s][line: {n}]"
    base = _base_line(store, prepared, raw, where)
    item = _valid_item(store, etype, raw.get("ItemCode"), where % "ItemCode")
    qty = _quantity(raw.get("Quantity"), where % "Quantity")
    line = {
        **writable(etype, raw),
        "LineNum": n - 1,
        "ItemCode": item["ItemCode"],
        "ItemDescription": raw.get("ItemDescription") or item["ItemName"],
        "Quantity": qty,
    }
    line["UnitPrice"] = _price(raw, item, where % "UnitPrice")
    line["Price"] = line["UnitPrice"]
    line["LineTotal"] = round(qty * line["UnitPrice"], 2)
    _line_warehouses(store, prepared, raw, line, item, where)
    if etype.set_name == "PurchaseRequests" and raw.get("LineVendor"):
        _vendor(store, raw["LineVendor"], where % "LineVendor")
    open_qty = qty if etype.set_name in _PURCHASING else 0.0
    line.update(RemainingOpenQuantity=open_qty, LineStatus="bost_Open" if open_qty else "bost_Close")
    _moves_for(prepared, item, line, base, n)
    return line


def _price(raw: Row, item: Row, where: str) -> float:
    """UnitPrice, else Price, else the item's average cost; numbers may be strings (§3)."""
    value = next((raw[k] for k in ("UnitPrice", "Price") if raw.get(k) is not None), None)
    try:
        return float(value if value is not None else item.get("AvgStdPrice") or 0.0)
    except (TypeError, ValueError):
        raise SLError(400, -1000, f"Invalid value '{value}' {where}")


def _base_line(store: SapStore, prepared: Prepared, raw: Row, where: str) -> tuple[Row, Row] | None:
    """A GRPO line copying a PO line: BaseType 22 + BaseEntry + BaseLine (reference §11)."""
    if prepared.etype.set_name != "PurchaseDeliveryNotes" or raw.get("BaseType") in (None, -1):
        return None
    if int(raw["BaseType"]) != 22:
        raise business(f"Base document type {raw['BaseType']} is not supported {where % 'BaseType'}")
    po = store.table("PurchaseOrders").get(int(raw.get("BaseEntry") or 0))
    if po is None or po["DocumentStatus"] != "bost_Open":
        raise business(f"Base document is closed or does not exist {where % 'BaseEntry'}")
    if po["CardCode"] != prepared.doc.get("CardCode"):
        raise business(f"Business partner differs from the base document {where % 'BaseEntry'}")
    lines = {ln["LineNum"]: ln for ln in po["DocumentLines"]}
    po_line = lines.get(int(raw.get("BaseLine") or 0))
    if po_line is None or po_line["LineStatus"] != "bost_Open":
        raise business(f"Base document line is closed or does not exist {where % 'BaseLine'}")
    raw.setdefault("ItemCode", po_line["ItemCode"])
    raw.setdefault("WarehouseCode", po_line["WarehouseCode"])
    raw.setdefault("UnitPrice", po_line["UnitPrice"])
    return po, po_line


def _valid_item(store: SapStore, etype: EntityType, code: Any, where: str) -> Row:
    item = store.item(code) if code else None
    if item is None:
        raise business(f"Invalid item code '{code}' {where}")
    if item["Valid"] != "tYES":
        raise business(f"Item '{code}' is inactive {where}")
    if item["Frozen"] == "tYES":
        raise business(f"Item '{code}' is frozen {where}")
    if etype.set_name in _PURCHASING and item["PurchaseItem"] != "tYES":
        raise business(f"Item '{code}' is not a purchasing item {where}")
    if etype.set_name not in _PURCHASING and item["InventoryItem"] != "tYES":
        raise business(f"Item '{code}' is not an inventory item {where}")
    return item


def _quantity(value: Any, where: str) -> float:
    try:
        qty = float(value)
    except (TypeError, ValueError):
        raise business(f"Quantity must be greater than zero {where}")
    if qty <= 0:
        raise business(f"Quantity must be greater than zero {where}")
    return qty


def _line_warehouses(store: SapStore, prepared: Prepared, raw: Row, line: Row, item: Row, where: str) -> None:
    """The line's WarehouseCode wins; the header (transfers) or the item's DefaultWarehouse only
    fills a line that has none."""
    doc = prepared.doc
    if prepared.etype.set_name == "StockTransfers":
        line["FromWarehouseCode"] = _warehouse(
            store, raw.get("FromWarehouseCode") or doc.get("FromWarehouse"), where % "FromWarehouseCode"
        )
        line["WarehouseCode"] = _warehouse(
            store, raw.get("WarehouseCode") or doc.get("ToWarehouse"), where % "WarehouseCode"
        )
        return
    line["WarehouseCode"] = _warehouse(
        store, raw.get("WarehouseCode") or item.get("DefaultWarehouse"), where % "WarehouseCode"
    )


def _warehouse(store: SapStore, code: Any, where: str) -> str:
    whs = store.table("Warehouses").get(code) if code else None
    if whs is None:
        raise business(f"Invalid warehouse code '{code}' {where}")
    if whs["Inactive"] == "tYES":
        raise business(f"Warehouse '{code}' is inactive {where}")
    return str(code)


def _moves_for(prepared: Prepared, item: Row, line: Row, base: tuple[Row, Row] | None, n: int) -> None:
    name, code, qty, whs = prepared.etype.set_name, item["ItemCode"], line["Quantity"], line["WarehouseCode"]
    add = prepared.moves.append
    if name == "PurchaseOrders":
        add(Move(code, whs, "Ordered", qty, n))
    elif name in {"PurchaseDeliveryNotes", "InventoryGenEntries"}:
        add(Move(code, whs, "InStock", qty, n))
    elif name == "InventoryGenExits":
        add(Move(code, whs, "InStock", -qty, n))
    elif name == "StockTransfers":
        add(Move(code, line["FromWarehouseCode"], "InStock", -qty, n))
        add(Move(code, whs, "InStock", qty, n))
    if base is not None:
        po, po_line = base
        drawn = min(qty, po_line["RemainingOpenQuantity"])
        line.update(BaseType=22, BaseEntry=po["DocEntry"], BaseLine=po_line["LineNum"])
        prepared.base_draws.append((po, po_line, drawn))
        add(Move(code, po_line["WarehouseCode"], "Ordered", -drawn, n))


def _check_negative(store: SapStore, prepared: Prepared, lines_name: str) -> None:
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for move in prepared.moves:
        if move.field != "InStock":
            continue
        totals[(move.item_code, move.warehouse)] += move.delta
        row = store.warehouse_row(store.get("Items", move.item_code), move.warehouse)
        on_hand = row["InStock"] if row else 0.0
        if on_hand + totals[(move.item_code, move.warehouse)] < 0:
            raise business(
                f"Quantity falls into negative inventory [{lines_name}.ItemCode][line: {move.line}]"
            )


# --- commit ------------------------------------------------------------------------------------


def commit(store: SapStore, prepared: Prepared) -> Row:
    etype, doc = prepared.etype, prepared.doc
    doc["DocEntry"] = store.next_key(etype.set_name)
    doc["DocNum"] = store.next_key(etype.set_name + "#DocNum")
    store.stamp_row(doc)
    doc["CreationDate"] = doc["UpdateDate"]
    doc["DocTime"] = doc["UpdateTime"]
    doc["DocTotal"] = round(sum(ln.get("LineTotal", 0.0) for ln in doc[etype.lines or "DocumentLines"]), 2)
    _apply_moves(store, prepared.moves)
    for po, po_line, qty in prepared.base_draws:
        _draw_po_line(store, po, po_line, qty)
    store.table(etype.set_name).insert(doc)
    _count_created(store, etype.set_name, doc)
    return doc


def _apply_moves(store: SapStore, moves: list[Move]) -> None:
    touched: dict[str, Row] = {}
    for move in moves:
        item = store.get("Items", move.item_code)
        row = store.warehouse_row(item, move.warehouse)
        if row is not None:
            row[move.field] = (
                max(0.0, row[move.field] + move.delta)
                if move.field == "Ordered"
                else row[move.field] + move.delta
            )
            touched[move.item_code] = item
    for item in touched.values():
        store.stock_changed(item)


def _draw_po_line(store: SapStore, po: Row, po_line: Row, qty: float) -> None:
    po_line["RemainingOpenQuantity"] = max(0.0, po_line["RemainingOpenQuantity"] - qty)
    if po_line["RemainingOpenQuantity"] <= 0:
        po_line["LineStatus"] = "bost_Close"
    if all(ln["LineStatus"] == "bost_Close" for ln in po["DocumentLines"]):
        po["DocumentStatus"] = "bost_Close"
    store.stamp_row(po)
    store.table("PurchaseOrders").touch(po["DocEntry"])


def _count_created(store: SapStore, set_name: str, doc: Row) -> None:
    """Stats for the product's idempotency tests: a second document carrying an external
    reference already used by another document of the same set is a duplicate."""
    store.stats.documents_created[set_name] += 1
    ref = doc.get(store.config.ext_ref_udf)
    if ref in (None, ""):
        return
    seen = store.ext_refs.setdefault(set_name, Counter())
    if seen[str(ref)]:
        store.stats.duplicates_by_ext_ref[set_name] += 1
    seen[str(ref)] += 1


# --- PATCH and actions ---------------------------------------------------------------------------


def patch(store: SapStore, etype: EntityType, key: int, body: Row) -> Row:
    """PATCH merges the header; lines are matched by LineNum, others appended (reference §3)."""
    doc = store.get(etype.set_name, key)
    if doc["DocumentStatus"] == "bost_Close":
        raise business("Document is already closed")
    lines_name = etype.lines or "DocumentLines"
    header = {k: v for k, v in body.items() if k != lines_name}
    check_properties(store, etype, header)
    if "DocDate" in header:
        header["DocDate"] = _date(header["DocDate"])
        doc["FinancialPeriod"] = periods.period_for(store.periods, header["DocDate"] or "")["AbsoluteEntry"]
    for name in ("DocDueDate", "TaxDate", "RequriedDate"):
        if name in header:
            header[name] = _date(header[name])
    fields = writable(etype, header)
    fields.pop("DocEntry", None)
    doc.update(fields)
    for raw in body.get(lines_name) or []:
        _patch_line(store, etype, doc, dict(raw))
    store.stamp_row(doc)
    store.table(etype.set_name).touch(key)
    return doc


def _patch_line(store: SapStore, etype: EntityType, doc: Row, raw: Row) -> None:
    lines_name = etype.lines or "DocumentLines"
    check_properties(store, etype, raw, lines=True)
    existing = {ln["LineNum"]: ln for ln in doc[lines_name]}
    line = existing.get(raw.get("LineNum"))
    if line is None:
        _append_line(store, etype, doc, raw)
        return
    new_qty = raw.get("Quantity")
    if new_qty is not None and etype.set_name == "PurchaseOrders":
        delta = _quantity(new_qty, f"[{lines_name}.Quantity][line: {line['LineNum'] + 1}]") - line["Quantity"]
        _apply_moves(store, [Move(line["ItemCode"], line["WarehouseCode"], "Ordered", delta, 0)])
        line["RemainingOpenQuantity"] = max(0.0, line["RemainingOpenQuantity"] + delta)
    line.update(
        {k: v for k, v in writable(etype, raw).items() if k not in {"ItemCode", "WarehouseCode", "LineNum"}}
    )


def _append_line(store: SapStore, etype: EntityType, doc: Row, raw: Row) -> None:
    lines_name = etype.lines or "DocumentLines"
    raw.pop("LineNum", None)
    prepared = Prepared(etype, doc)
    n = len(doc[lines_name]) + 1
    line = _line(store, prepared, raw, n)
    line["LineNum"] = max((ln["LineNum"] for ln in doc[lines_name]), default=-1) + 1
    _apply_moves(store, prepared.moves)
    doc[lines_name].append(line)


def close(store: SapStore, key: int, cancel: bool = False) -> Row:
    """POST PurchaseOrders(n)/Close or /Cancel: releases what is still on order."""
    po = store.get("PurchaseOrders", key)
    if po["DocumentStatus"] == "bost_Close":
        raise business("Document is already closed")
    moves = [
        Move(ln["ItemCode"], ln["WarehouseCode"], "Ordered", -ln["RemainingOpenQuantity"], 0)
        for ln in po["DocumentLines"]
        if ln["LineStatus"] == "bost_Open"
    ]
    _apply_moves(store, moves)
    for line in po["DocumentLines"]:
        line["LineStatus"] = "bost_Close"
    po["DocumentStatus"] = "bost_Close"
    if cancel:
        po["Cancelled"] = "tYES"
    store.stamp_row(po)
    store.table("PurchaseOrders").touch(key)
    return po


def delete(store: SapStore, etype: EntityType, key: int) -> None:
    """Only purchase requests may be deleted; other documents answer -5006 (reference §3)."""
    store.get(etype.set_name, key)
    if etype.set_name != "PurchaseRequests":
        raise SLError(400, -5006, "The requested action is not supported for this object.")
    store.table(etype.set_name).delete(key)


# --- production orders -------------------------------------------------------------------------


def create_production_order(store: SapStore, body: Row) -> Row:
    etype = schema.PRODUCTION_ORDERS
    check_properties(store, etype, {k: v for k, v in body.items() if k != "ProductionOrderLines"})
    item = store.item(body.get("ItemNo") or "")
    if item is None or item["Valid"] != "tYES" or item["Frozen"] == "tYES":
        raise business(f"Invalid or inactive product number '{body.get('ItemNo')}' [OWOR.ItemCode]")
    qty = _quantity(body.get("PlannedQuantity"), "[OWOR.PlannedQty]")
    posting = _date(body.get("PostingDate")) or store.today().isoformat()
    periods.period_for(store.periods, posting)
    whs = _warehouse(store, body.get("Warehouse") or item.get("DefaultWarehouse"), "[OWOR.Warehouse]")
    order = {
        **writable(etype, body),
        "ItemNo": item["ItemCode"],
        "ProductDescription": item["ItemName"],
        "PlannedQuantity": qty,
        "CompletedQuantity": 0.0,
        "PostingDate": posting,
        "DueDate": _date(body.get("DueDate")) or posting,
        "StartDate": _date(body.get("StartDate")) or posting,
        "Warehouse": whs,
        "ProductionOrderStatus": body.get("ProductionOrderStatus", "boposPlanned"),
        "ProductionOrderType": body.get("ProductionOrderType", "bopotStandard"),
        "ProductionOrderLines": list(body.get("ProductionOrderLines") or []),
    }
    order["AbsoluteEntry"] = store.next_key("ProductionOrders")
    order["DocumentNumber"] = store.next_key("ProductionOrders#DocNum")
    store.stamp_row(order)
    order["CreationDate"] = order["UpdateDate"]
    store.table("ProductionOrders").insert(order)
    _count_created(store, "ProductionOrders", order)
    return order

"""What the sync reads from SAP, and how: key-set pages so a row changed mid-read is never lost.

`$skip` paging is not a snapshot (reference §5): an insert or a delete while we page shifts the
offsets. Ordering by the key and asking for `key gt 'last'` makes each page start after the last
row we saw, whatever happened before it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import date, time
from typing import Any

from app.integrations.sap_b1.client import SapB1Client
from app.integrations.sap_b1.query import Expr, F, params
from app.kit import fastjson

Row = dict[str, Any]

ITEM_SELECT = [
    "ItemCode",
    "ItemName",
    "ItemsGroupCode",
    "InventoryItem",
    "Valid",
    "Frozen",
    "BarCode",
    "AvgStdPrice",
    "CreateDate",
    "UpdateDate",
    "UpdateTime",
    "ItemWarehouseInfoCollection",
]
WAREHOUSE_SELECT = ["WarehouseCode", "WarehouseName", "Inactive", "Nettable", "DropShip"]
GROUP_SELECT = ["Number", "GroupName"]
# Every stock-moving document set the Service Layer (and our emulator) has; reference §12.3 warns
# that it is easy to miss one. Deliveries, returns and invoices join here when SAP posts them.
STOCK_DOCUMENTS: dict[str, str] = {
    "PurchaseDeliveryNotes": "DocumentLines",
    "InventoryGenEntries": "DocumentLines",
    "InventoryGenExits": "DocumentLines",
    "StockTransfers": "StockTransferLines",
}
# ItemCode filters are ORed into the URL (~25 bytes each): 100 stays far below proxy limits.
CODES_PER_REQUEST = 100


def changed_since(day: date, minute: time) -> Expr:
    """`UpdateDate gt D or (UpdateDate eq D and UpdateTime ge HH:MM)` (reference §12.1)."""
    return (F("UpdateDate") > day) | ((F("UpdateDate") == day) & (F("UpdateTime") >= minute))


async def warehouses(sap: SapB1Client) -> list[Row]:
    return [row async for row in _all(sap, "Warehouses", "WarehouseCode", WAREHOUSE_SELECT)]


async def item_groups(sap: SapB1Client) -> list[Row]:
    return [row async for row in _all(sap, "ItemGroups", "Number", GROUP_SELECT)]


async def _all(sap: SapB1Client, entity: str, key: str, select: list[str]) -> AsyncIterator[Row]:
    async for page in sap.iter_keyset(entity, key=key, select=select):
        for row in page:
            yield row


def items(
    sap: SapB1Client, *, since: Expr | None = None, page_size: int | None = None
) -> AsyncIterator[list[Row]]:
    return sap.iter_keyset("Items", key="ItemCode", filter=since, select=ITEM_SELECT, page_size=page_size)


async def items_by_code(sap: SapB1Client, codes: Iterable[str]) -> AsyncIterator[list[Row]]:
    """One request per chunk: a chunk fits in one page, so no paging (and no empty last page)."""
    ordered = sorted(set(codes))
    for start in range(0, len(ordered), CODES_PER_REQUEST):
        chunk = ordered[start : start + CODES_PER_REQUEST]
        query = params(filter=F("ItemCode").isin(chunk), select=ITEM_SELECT, top=len(chunk))
        # The default page is 20 rows (reference §5): ask for the whole chunk in one page.
        response = await sap.request(
            "GET", "Items", params=query, headers={"Prefer": f"odata.maxpagesize={len(chunk)}"}
        )
        yield list(fastjson.loads(response.content).get("value") or [])


async def moved_item_codes(sap: SapB1Client, since: Expr) -> set[str]:
    """ItemCodes on stock documents changed since the watermark: Items.UpdateDate need not move
    when only OITW quantities do (reference §11), so these items are re-read explicitly."""
    codes: set[str] = set()
    for entity, lines in STOCK_DOCUMENTS.items():
        async for page in sap.iter_keyset(entity, key="DocEntry", filter=since, select=["DocEntry", lines]):
            codes.update(_line_codes(page, lines))
    return codes


def _line_codes(docs: list[Row], lines: str) -> set[str]:
    return {str(line["ItemCode"]) for doc in docs for line in doc.get(lines) or [] if line.get("ItemCode")}


async def grpos_since(sap: SapB1Client, since: Expr) -> AsyncIterator[Row]:
    select = ["DocEntry", "DocNum", "Cancelled", "DocumentLines"]
    async for page in sap.iter_keyset("PurchaseDeliveryNotes", key="DocEntry", filter=since, select=select):
        for doc in page:
            yield doc


async def purchase_order(sap: SapB1Client, doc_entry: int, ext_ref_udf: str) -> Row:
    select = ["DocEntry", "DocNum", "NumAtCard", ext_ref_udf, "DocumentLines"]
    return await sap.get("PurchaseOrders", doc_entry, select=select)

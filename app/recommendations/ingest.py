"""From an IP purchase order id to the facts validation needs: the PO re-read from IP (never the
webhook body) and SAP's item master data for every SKU on it."""

from __future__ import annotations

import time
from collections.abc import Iterable

from app.integrations.inventory_planner.schemas import IPPurchaseOrder
from app.integrations.sap_b1.client import SapB1Client
from app.integrations.sap_b1.errors import SapNotFound
from app.recommendations.validation import ItemFacts
from app.runtime import Runtime
from app.writeback import clients

ITEM_FIELDS = ["ItemCode", "Valid", "Frozen", "PurchaseItem", "ProcurementMethod", "ItemsGroupCode"]
ITEM_CACHE_SECONDS = 60.0
_items: dict[tuple[str, str], tuple[float, ItemFacts | None]] = {}  # (SAP root, ItemCode)


async def fetch_po(runtime: Runtime, po_id: str) -> IPPurchaseOrder:
    return await clients.ip(runtime).get_purchase_order(po_id)


def item_facts(row: dict[str, object], make_groups: Iterable[int]) -> ItemFacts:
    group = row.get("ItemsGroupCode")
    group_code = int(group) if isinstance(group, int | str) and str(group).lstrip("-").isdigit() else None
    return ItemFacts(
        item_code=str(row["ItemCode"]),
        valid=row.get("Valid") != "tNO",
        frozen=row.get("Frozen") == "tYES",
        purchasable=row.get("PurchaseItem") != "tNO",
        make=row.get("ProcurementMethod") == "bom_Make"
        or (group_code is not None and group_code in make_groups),
        group=group_code,
    )


async def _item(sap: SapB1Client, code: str, make_groups: list[int], fresh: bool) -> ItemFacts | None:
    cached = _items.get((sap.root, code))
    if not fresh and cached is not None and time.monotonic() - cached[0] < ITEM_CACHE_SECONDS:
        return cached[1]
    try:
        facts: ItemFacts | None = item_facts(await sap.get("Items", code, select=ITEM_FIELDS), make_groups)
    except SapNotFound:
        facts = None
    _items[(sap.root, code)] = (time.monotonic(), facts)
    return facts


async def items_for(
    runtime: Runtime, po: IPPurchaseOrder, *, fresh: bool = False
) -> dict[str, ItemFacts | None]:
    """ItemCode = IP SKU (reference IP §2.4: ItemCode → VARIANT_ID and SKU). `fresh` skips the
    cache: re-validating a blocked order is asking whether SAP changed since."""
    sap = clients.sap_reader(runtime)  # a validation read: it takes a slot of the global cap
    groups = runtime.settings.writeback.make_item_groups
    codes = sorted({item.sku for item in po.items if item.sku})
    return {code: await _item(sap, code, groups, fresh) for code in codes}

"""Deterministic seed data: the same (seed, items, warehouses) always gives the same company.

Mix, by design so the product's status rules have something to bite on: ~3% inactive items,
~2% frozen, ~3% non-inventory, ~6% make items (bom_Make); the last three warehouses are
non-nettable, drop-ship and inactive (when there are at least four).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

Row = dict[str, Any]

GROUPS = [
    "Items",
    "Raw Materials",
    "Finished Goods",
    "Packaging",
    "Spare Parts",
    "Consumables",
    "Electronics",
    "Accessories",
]


def warehouses(count: int) -> list[Row]:
    rows = [_warehouse(i) for i in range(1, count + 1)]
    if count >= 4:
        rows[-3].update(WarehouseName="Quarantine", Nettable="tNO")
        rows[-2].update(WarehouseName="Drop Ship", DropShip="tYES", Nettable="tNO")
        rows[-1].update(WarehouseName="Old Depot (closed)", Inactive="tYES")
    return rows


def _warehouse(i: int) -> Row:
    name = "General Warehouse" if i == 1 else f"Warehouse {i:02d}"
    return {
        "WarehouseCode": f"{i:02d}",
        "WarehouseName": name,
        "Inactive": "tNO",
        "Nettable": "tYES",
        "DropShip": "tNO",
        "BusinessPlaceID": 1,
        "Location": None,
    }


def item_groups() -> list[Row]:
    return [
        {
            "Number": 100 + i,
            "GroupName": name,
            "LeadTime": 7 + i,
            "MinimumOrderQuantity": 0.0,
            "OrderMultiple": 1.0,
            "PlanningSystem": "bop_None",
        }
        for i, name in enumerate(GROUPS)
    ]


def business_partners(rng: random.Random, item_count: int, today: date) -> list[Row]:
    vendors = max(5, min(2000, item_count // 20))
    rows = [_bp(f"V{10000 + i}", f"Vendor {i + 1}", "cSupplier", rng, today) for i in range(vendors)]
    rows[-1].update(Valid="tNO")  # one inactive vendor
    rows[-2].update(Frozen="tYES")  # and one frozen
    rows += [_bp(f"C{20000 + i}", f"Customer {i + 1}", "cCustomer", rng, today) for i in range(5)]
    return rows


def _bp(code: str, name: str, card_type: str, rng: random.Random, today: date) -> Row:
    return {
        "CardCode": code,
        "CardName": name,
        "CardType": card_type,
        "Valid": "tYES",
        "Frozen": "tNO",
        "Currency": "USD",
        "EmailAddress": f"{code.lower()}@example.com",
        "UpdateDate": (today - timedelta(days=rng.randint(1, 400))).isoformat(),
        "UpdateTime": _time(rng),
        "DataVersion": 1,
    }


def items(rng: random.Random, count: int, whs_codes: list[str], vendors: list[str], today: date) -> list[Row]:
    return [_item(i, rng, whs_codes, vendors, today) for i in range(1, count + 1)]


def _item(i: int, rng: random.Random, whs_codes: list[str], vendors: list[str], today: date) -> Row:
    # rng.random() arithmetic instead of randint/choice: 100k items x 5 warehouses must seed fast.
    r = rng.random
    roll = r()
    inventory = not (0.05 <= roll < 0.08)
    make = 0.08 <= roll < 0.14
    updated = today - timedelta(days=1 + int(r() * 400))
    code = f"A{i:05d}"
    rows = [_stock_row(code, whs, r, inventory) for whs in whs_codes]
    return {
        "ItemCode": code,
        "ItemName": f"Item {i} {_NOUNS[int(r() * 10)]}",
        "ForeignName": None,
        "ItemsGroupCode": 100 + int(r() * len(GROUPS)),
        "InventoryItem": _yn(inventory),
        "PurchaseItem": _yn(not make),
        "SalesItem": "tYES",
        "Valid": _yn(not roll < 0.03),
        "Frozen": _yn(0.03 <= roll < 0.05),
        "ManageBatchNumbers": "tNO",
        "ProcurementMethod": "bom_Make" if make else "bom_Buy",
        "AvgStdPrice": round(1 + r() * 199, 2),
        "MovingAveragePrice": 0.0,
        "DefaultWarehouse": whs_codes[0] if whs_codes else None,
        "Mainsupplier": vendors[int(r() * len(vendors))],
        "LeadTime": _LEAD[int(r() * 4)],
        "MinOrderQuantity": _MOQ[int(r() * 3)],
        "OrderMultiple": _MULT[int(r() * 4)],
        "QuantityOnStock": sum(row["InStock"] for row in rows),
        "QuantityOrderedFromVendors": sum(row["Ordered"] for row in rows),
        "QuantityOrderedByCustomers": sum(row["Committed"] for row in rows),
        "BarCode": f"{400000000000 + i}",
        "SalesUnit": "Each",
        "PurchaseUnit": "Each",
        "InventoryUOM": "Each",
        "CreateDate": (updated - timedelta(days=int(r() * 300))).isoformat(),
        "UpdateDate": updated.isoformat(),
        "UpdateTime": _clock(r),
        "DataVersion": 1,
        "ItemWarehouseInfoCollection": rows,
    }


def _stock_row(item_code: str, whs: str, r: Callable[[], float], inventory: bool) -> Row:
    in_stock = float(int(r() * 500) + 1) if inventory and r() < 0.6 else 0.0
    committed = float(int(r() * min(in_stock, 40))) if in_stock and r() < 0.3 else 0.0
    ordered = float(int(r() * 100) + 1) if inventory and r() < 0.2 else 0.0
    return {
        "ItemCode": item_code,
        "WarehouseCode": whs,
        "InStock": in_stock,
        "Committed": committed,
        "Ordered": ordered,
        "Locked": "tNO",
        "MinimalStock": 0.0,
        "MaximalStock": 0.0,
        "MinimalOrder": 0.0,
    }


def _clock(r: Callable[[], float]) -> str:
    return f"{6 + int(r() * 14):02d}:{int(r() * 60):02d}:{int(r() * 60):02d}"


def _yn(flag: bool) -> str:
    return "tYES" if flag else "tNO"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(6, 19):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


_LEAD = [None, 7, 14, 30]
_MOQ = [None, 1.0, 10.0]
_MULT = [None, 1.0, 6.0, 12.0]
_NOUNS = ["Bolt", "Widget", "Gear", "Cable", "Panel", "Valve", "Bracket", "Sensor", "Filter", "Pump"]

"""Writes to master data: Items, BusinessPartners, Warehouses, ItemGroups, UserFieldsMD."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.emulators.sap_b1 import schema
from app.emulators.sap_b1.errors import SLError, invalid_property
from app.emulators.sap_b1.schema import EntityType

if TYPE_CHECKING:
    from app.emulators.sap_b1.store import SapStore

Row = dict[str, Any]
ALREADY_EXISTS = "This entry already exists in the following tables (ODBC -2035)"
_UDF_TYPES = set(schema.UDF_TYPES.values())


def check_properties(store: SapStore, etype: EntityType, body: Row, lines: bool = False) -> None:
    """The SL rejects any property its model does not know, U_ fields included (reference §10)."""
    resolve = store.resolver(etype, lines)
    for name in body:
        if not name.startswith("odata.") and not name.startswith("@"):
            resolve(name)


def writable(etype: EntityType, body: Row) -> Row:
    """Read-only properties are silently ignored on writes (reference §3)."""
    return {k: v for k, v in body.items() if k not in etype.readonly and not k.startswith(("odata.", "@"))}


def create_item(store: SapStore, body: Row) -> Row:
    _check_item_body(store, body)
    code = body.get("ItemCode")
    if not code:
        raise SLError(400, -5002, "Enter item code [OITM.ItemCode]")
    if store.item(code) is not None:
        raise SLError(400, -2035, ALREADY_EXISTS)
    item = {**_item_defaults(store, code), **writable(schema.ITEMS, body)}
    item["ItemWarehouseInfoCollection"] = _warehouse_rows(store, code, body)
    store.stamp_row(item)
    item["CreateDate"] = item["UpdateDate"]
    store.table("Items").insert(item)
    store.stock_changed(item)
    return item


def _check_item_body(store: SapStore, body: Row) -> None:
    check_properties(store, schema.ITEMS, body)
    for row in body.get("ItemWarehouseInfoCollection") or []:
        for name in row:
            if name not in schema.WAREHOUSE_ROW_FIELDS and name != "ItemCode":
                raise invalid_property(name, "ItemWarehouseInfo")


def _item_defaults(store: SapStore, code: str) -> Row:
    return {
        "ItemCode": code,
        "ItemName": code,
        "ForeignName": None,
        "ItemsGroupCode": 100,
        "InventoryItem": "tYES",
        "PurchaseItem": "tYES",
        "SalesItem": "tYES",
        "Valid": "tYES",
        "Frozen": "tNO",
        "ManageBatchNumbers": "tNO",
        "ProcurementMethod": "bom_Buy",
        "AvgStdPrice": 0.0,
        "MovingAveragePrice": 0.0,
        "DefaultWarehouse": _first_warehouse(store),
        "Mainsupplier": None,
        "LeadTime": None,
        "MinOrderQuantity": None,
        "OrderMultiple": None,
        "QuantityOnStock": 0.0,
        "QuantityOrderedFromVendors": 0.0,
        "QuantityOrderedByCustomers": 0.0,
        "BarCode": None,
        "SalesUnit": None,
        "PurchaseUnit": None,
        "InventoryUOM": None,
        "DataVersion": 0,
    }


def _first_warehouse(store: SapStore) -> str | None:
    keys = store.table("Warehouses").keys
    return keys[0] if keys else None


def _warehouse_rows(store: SapStore, code: str, body: Row) -> list[Row]:
    """SAP adds an OITW row per warehouse; quantities start at zero whatever the body says."""
    given = {r.get("WarehouseCode"): r for r in body.get("ItemWarehouseInfoCollection") or []}
    rows = []
    for whs in store.table("Warehouses").keys:
        extra = {k: v for k, v in given.get(whs, {}).items() if k not in schema.STOCK_FIELDS}
        rows.append(
            {
                "WarehouseCode": whs,
                "InStock": 0.0,
                "Committed": 0.0,
                "Ordered": 0.0,
                "Locked": "tNO",
                "MinimalStock": 0.0,
                "MaximalStock": 0.0,
                "MinimalOrder": 0.0,
                **extra,
                "ItemCode": code,
            }
        )
    return rows


def patch_item(store: SapStore, code: str, body: Row) -> Row:
    item = store.get("Items", code)
    _check_item_body(store, body)
    fields = writable(schema.ITEMS, body)
    fields.pop("ItemCode", None)
    rows = fields.pop("ItemWarehouseInfoCollection", None) or []
    item.update(fields)
    for patch in rows:
        _patch_warehouse_row(store, item, patch)
    store.stamp_row(item)
    store.table("Items").touch(code)
    return item


def _patch_warehouse_row(store: SapStore, item: Row, patch: Row) -> None:
    # InStock/Committed/Ordered are read-only: silently ignored, as on a real SL (§11).
    row = store.warehouse_row(item, patch.get("WarehouseCode", ""))
    if row is not None:
        row.update({k: v for k, v in patch.items() if k not in schema.STOCK_FIELDS and k != "ItemCode"})


def create_simple(store: SapStore, etype: EntityType, body: Row) -> Row:
    check_properties(store, etype, body)
    table = store.table(etype.set_name)
    row = writable(etype, body)
    if etype.int_key and row.get(etype.key) is None:
        row[etype.key] = max(table.keys, default=100) + 1
    if row.get(etype.key) in (None, ""):
        raise SLError(400, -5002, f"Enter {etype.key}")
    if table.get(row[etype.key]) is not None:
        raise SLError(400, -2035, ALREADY_EXISTS)
    row = {**{name: None for name, kind in etype.fields.items() if kind != "coll"}, **row}
    if "DataVersion" in etype.fields:
        store.stamp_row(row)
    table.insert(row)
    return row


def patch_simple(store: SapStore, etype: EntityType, key: Any, body: Row) -> Row:
    row = store.get(etype.set_name, key)
    check_properties(store, etype, body)
    fields = writable(etype, body)
    fields.pop(etype.key, None)
    row.update(fields)
    if "DataVersion" in etype.fields:
        store.stamp_row(row)
    store.table(etype.set_name).touch(key)
    return row


def new_udf(store: SapStore, body: Row) -> Row:
    """POST /UserFieldsMD {Name, Type, Size, Description, TableName} (reference §10)."""
    check_properties(store, schema.USER_FIELDS, body)
    name, table = body.get("Name"), body.get("TableName")
    if not name or not table:
        raise SLError(400, -5002, "Specify the field name and the table name")
    if str(name).startswith("U_"):
        raise SLError(400, -5002, "Field name must be given without the U_ prefix")
    udf_type = body.get("Type", "db_Alpha")
    if udf_type not in _UDF_TYPES:
        raise SLError(400, -1000, f"Invalid value '{udf_type}' for property 'Type'")
    rows = store.table("UserFieldsMD").rows.values()
    if any(r["TableName"] == table and r["Name"] == name for r in rows):
        raise SLError(400, -2035, ALREADY_EXISTS)
    field_id = sum(1 for r in rows if r["TableName"] == table)
    return {
        "_key": len(store.table("UserFieldsMD")) + 1,
        "TableName": table,
        "FieldID": field_id,
        "Name": name,
        "Type": udf_type,
        "Size": body.get("Size", 10),
        "Description": body.get("Description", name),
        "SubType": body.get("SubType", "st_None"),
        "DefaultValue": body.get("DefaultValue"),
        "Mandatory": body.get("Mandatory", "tNO"),
        "EditSize": body.get("Size", 10),
    }

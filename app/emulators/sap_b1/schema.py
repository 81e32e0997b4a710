"""The entity sets the emulator serves, their properties and the kinds the query engine needs.

Kinds: str, num, date ('YYYY-MM-DD'), time ('HH:MM:SS', compared on HH:MM, reference §4), enum
(stored by name, filterable by name or value), coll (inline collection: not filterable, not
expandable, reference §4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

YES_NO = {"Y": "tYES", "N": "tNO"}
CARD_TYPE = {"S": "cSupplier", "C": "cCustomer", "L": "cLid"}
DOC_STATUS = {"O": "bost_Open", "C": "bost_Close"}
PROCUREMENT = {"B": "bom_Buy", "M": "bom_Make"}
PROD_STATUS = {"P": "boposPlanned", "R": "boposReleased", "L": "boposClosed", "C": "boposCancelled"}
PERIOD_STATUS = {"N": "ltUnlocked", "1": "ltUnlockedExceptSales", "2": "ltPeriodClosing", "Y": "ltLocked"}
# BoObjectTypes: documents serialise DocObjectCode by name (b1sl's model rejects the number).
OBJECT_CODES = {
    "22": "oPurchaseOrders",
    "1470000113": "oPurchaseRequest",
    "20": "oPurchaseDeliveryNotes",
    "59": "oInventoryGenEntry",
    "60": "oInventoryGenExit",
    "67": "oStockTransfer",
}
UDF_TYPES = {"A": "db_Alpha", "M": "db_Memo", "N": "db_Numeric", "B": "db_Float", "D": "db_Date"}

# Header UDFs of one marketing-document table appear on all of them, line UDFs likewise (§10).
DOC_HEADER_TABLES = frozenset({"OPOR", "OPRQ", "OPDN", "OIGN", "OIGE", "OWTR", "ORDR", "OINV", "ODLN"})
DOC_LINE_TABLES = frozenset({"POR1", "PRQ1", "PDN1", "IGN1", "IGE1", "WTR1", "RDR1", "INV1", "DLN1"})


@dataclass(frozen=True)
class EntityType:
    set_name: str
    type_name: str  # the OData type, named in -1000 "Property 'X' of 'Type' is invalid"
    key: str
    fields: dict[str, str]
    enums: dict[str, dict[str, str]] = field(default_factory=dict)
    etag: bool = False  # reference §7 list
    table: str = ""  # DB table, for UDF scoping (§10)
    lines: str | None = None  # inline line collection of a document
    line_fields: dict[str, str] = field(default_factory=dict)
    obj_type: str = ""
    readonly: frozenset[str] = frozenset()

    @property
    def int_key(self) -> bool:
        return self.fields[self.key] == "num"


_ITEM_FIELDS = {
    "ItemCode": "str",
    "ItemName": "str",
    "ForeignName": "str",
    "ItemsGroupCode": "num",
    "InventoryItem": "enum",
    "PurchaseItem": "enum",
    "SalesItem": "enum",
    "Valid": "enum",
    "Frozen": "enum",
    "ManageBatchNumbers": "enum",
    "ProcurementMethod": "enum",
    "AvgStdPrice": "num",
    "MovingAveragePrice": "num",
    "DefaultWarehouse": "str",
    "Mainsupplier": "str",
    "LeadTime": "num",
    "MinOrderQuantity": "num",
    "OrderMultiple": "num",
    "QuantityOnStock": "num",
    "QuantityOrderedFromVendors": "num",
    "QuantityOrderedByCustomers": "num",
    "BarCode": "str",
    "SalesUnit": "str",
    "PurchaseUnit": "str",
    "InventoryUOM": "str",
    "CreateDate": "date",
    "UpdateDate": "date",
    "UpdateTime": "time",
    "DataVersion": "num",
    "ItemWarehouseInfoCollection": "coll",
}
_YN_ITEM = ("InventoryItem", "PurchaseItem", "SalesItem", "Valid", "Frozen", "ManageBatchNumbers")
WAREHOUSE_ROW_FIELDS = (
    "WarehouseCode",
    "InStock",
    "Committed",
    "Ordered",
    "Locked",
    "MinimalStock",
    "MaximalStock",
    "MinimalOrder",
)
STOCK_FIELDS = frozenset({"InStock", "Committed", "Ordered"})

ITEMS = EntityType(
    "Items",
    "Item",
    "ItemCode",
    _ITEM_FIELDS,
    etag=True,
    table="OITM",
    obj_type="4",
    enums={**{f: YES_NO for f in _YN_ITEM}, "ProcurementMethod": PROCUREMENT},
    readonly=frozenset(
        {
            "QuantityOnStock",
            "QuantityOrderedFromVendors",
            "QuantityOrderedByCustomers",
            "DataVersion",
            "UpdateDate",
            "UpdateTime",
            "CreateDate",
            "AvgStdPrice",
        }
    ),
)
WAREHOUSES = EntityType(
    "Warehouses",
    "Warehouse",
    "WarehouseCode",
    {
        "WarehouseCode": "str",
        "WarehouseName": "str",
        "Inactive": "enum",
        "Nettable": "enum",
        "DropShip": "enum",
        "BusinessPlaceID": "num",
        "Location": "num",
    },
    enums={"Inactive": YES_NO, "Nettable": YES_NO, "DropShip": YES_NO},
    table="OWHS",
    obj_type="64",
)
ITEM_GROUPS = EntityType(
    "ItemGroups",
    "ItemGroups",
    "Number",
    {
        "Number": "num",
        "GroupName": "str",
        "LeadTime": "num",
        "MinimumOrderQuantity": "num",
        "OrderMultiple": "num",
        "PlanningSystem": "str",
    },
    table="OITB",
    obj_type="52",
)
BUSINESS_PARTNERS = EntityType(
    "BusinessPartners",
    "BusinessPartner",
    "CardCode",
    {
        "CardCode": "str",
        "CardName": "str",
        "CardType": "enum",
        "Valid": "enum",
        "Frozen": "enum",
        "Currency": "str",
        "EmailAddress": "str",
        "UpdateDate": "date",
        "UpdateTime": "time",
        "DataVersion": "num",
    },
    enums={"CardType": CARD_TYPE, "Valid": YES_NO, "Frozen": YES_NO},
    etag=True,
    table="OCRD",
    obj_type="2",
)

_DOC_FIELDS = {
    "DocEntry": "num",
    "DocNum": "num",
    "DocType": "str",
    "DocDate": "date",
    "DocDueDate": "date",
    "TaxDate": "date",
    "RequriedDate": "date",
    "CardCode": "str",
    "CardName": "str",
    "NumAtCard": "str",
    "Comments": "str",
    "JournalMemo": "str",
    "Reference1": "str",
    "Reference2": "str",
    "DocCurrency": "str",
    "DocTotal": "num",
    "Series": "num",
    "DocumentStatus": "enum",
    "Cancelled": "enum",
    "FinancialPeriod": "num",
    "DocObjectCode": "enum",
    "CreationDate": "date",
    "UpdateDate": "date",
    "UpdateTime": "time",
    "DocTime": "time",
    "DataVersion": "num",
    "RequesterEmail": "str",
    "Requester": "str",
    "RequesterName": "str",
    "FromWarehouse": "str",
    "ToWarehouse": "str",
    "DocumentLines": "coll",
    "StockTransferLines": "coll",
}
_LINE_FIELDS = {
    "LineNum": "num",
    "ItemCode": "str",
    "ItemDescription": "str",
    "Quantity": "num",
    "WarehouseCode": "str",
    "FromWarehouseCode": "str",
    "UnitPrice": "num",
    "Price": "num",
    "Currency": "str",
    "TaxCode": "str",
    "BaseType": "num",
    "BaseEntry": "num",
    "BaseLine": "num",
    "RemainingOpenQuantity": "num",
    "LineStatus": "enum",
    "LineVendor": "str",
    "RequiredDate": "date",
    "ShipDate": "date",
    "LineTotal": "num",
    "AccountCode": "str",
    "BatchNumbers": "coll",
    "SerialNumbers": "coll",
    "CostingCode": "str",
    "ProjectCode": "str",
}
_DOC_ENUMS = {
    "DocumentStatus": DOC_STATUS,
    "Cancelled": YES_NO,
    "DocObjectCode": OBJECT_CODES,
    "LineStatus": DOC_STATUS,
}
_DOC_READONLY = frozenset(
    {
        "DocEntry",
        "DocNum",
        "DocumentStatus",
        "Cancelled",
        "UpdateDate",
        "UpdateTime",
        "DataVersion",
        "FinancialPeriod",
        "CreationDate",
        "DocObjectCode",
    }
)


def _doc(
    set_name: str,
    table: str,
    obj_type: str,
    *,
    etag: bool = True,
    lines: str = "DocumentLines",
    type_name: str = "Document",
) -> EntityType:
    return EntityType(
        set_name,
        type_name,
        "DocEntry",
        _DOC_FIELDS,
        enums=_DOC_ENUMS,
        etag=etag,
        table=table,
        lines=lines,
        line_fields=_LINE_FIELDS,
        obj_type=obj_type,
        readonly=_DOC_READONLY,
    )


PURCHASE_ORDERS = _doc("PurchaseOrders", "OPOR", "22")
PURCHASE_REQUESTS = _doc("PurchaseRequests", "OPRQ", "1470000113")
PURCHASE_DELIVERY_NOTES = _doc("PurchaseDeliveryNotes", "OPDN", "20")
GOODS_RECEIPTS = _doc("InventoryGenEntries", "OIGN", "59")
GOODS_ISSUES = _doc("InventoryGenExits", "OIGE", "60")
STOCK_TRANSFERS = _doc(
    "StockTransfers", "OWTR", "67", etag=False, lines="StockTransferLines", type_name="StockTransfer"
)
PRODUCTION_ORDERS = EntityType(
    "ProductionOrders",
    "ProductionOrder",
    "AbsoluteEntry",
    {
        "AbsoluteEntry": "num",
        "DocumentNumber": "num",
        "ItemNo": "str",
        "ProductDescription": "str",
        "PlannedQuantity": "num",
        "CompletedQuantity": "num",
        "DueDate": "date",
        "PostingDate": "date",
        "StartDate": "date",
        "Warehouse": "str",
        "ProductionOrderStatus": "enum",
        "ProductionOrderType": "str",
        "Remarks": "str",
        "CreationDate": "date",
        "UpdateDate": "date",
        "UpdateTime": "time",
        "DataVersion": "num",
        "ProductionOrderLines": "coll",
    },
    enums={"ProductionOrderStatus": PROD_STATUS},
    table="OWOR",
    obj_type="202",
    lines="ProductionOrderLines",
    readonly=frozenset({"AbsoluteEntry", "DocumentNumber", "UpdateDate", "UpdateTime", "DataVersion"}),
)
USER_FIELDS = EntityType(
    "UserFieldsMD",
    "UserFieldMD",
    "_key",  # real key is (TableName, FieldID); "_key" is internal
    {
        "_key": "num",
        "TableName": "str",
        "FieldID": "num",
        "Name": "str",
        "Type": "str",
        "Size": "num",
        "Description": "str",
        "SubType": "str",
        "DefaultValue": "str",
        "Mandatory": "enum",
        "EditSize": "num",
    },
    enums={"Mandatory": YES_NO},
    table="CUFD",
)

DOCUMENT_SETS = (
    PURCHASE_ORDERS,
    PURCHASE_REQUESTS,
    PURCHASE_DELIVERY_NOTES,
    GOODS_RECEIPTS,
    GOODS_ISSUES,
    STOCK_TRANSFERS,
)
ALL_SETS = {
    e.set_name: e
    for e in (
        ITEMS,
        WAREHOUSES,
        ITEM_GROUPS,
        BUSINESS_PARTNERS,
        PRODUCTION_ORDERS,
        USER_FIELDS,
        *DOCUMENT_SETS,
    )
}
LINE_TABLE = {"OPOR": "POR1", "OPRQ": "PRQ1", "OPDN": "PDN1", "OIGN": "IGN1", "OIGE": "IGE1", "OWTR": "WTR1"}


def udf_tables(table: str) -> frozenset[str]:
    """The tables whose UDFs an entity of `table` carries (§10 scope rule)."""
    if table in DOC_HEADER_TABLES:
        return DOC_HEADER_TABLES
    if table in DOC_LINE_TABLES:
        return DOC_LINE_TABLES
    return frozenset({table})

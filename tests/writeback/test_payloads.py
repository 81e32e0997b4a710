from datetime import date
from decimal import Decimal

from app.writeback import payloads
from app.writeback.payloads import Header, Line

LINES = [Line(1, "A1", Decimal(10), "01", Decimal("5.5")), Line(2, "A2", Decimal(3), "02")]


def header(entity: str = "PurchaseOrders", **kw: object) -> Header:
    values: dict[str, object] = {
        "entity": entity,
        "ext_ref_udf": "U_Ref",
        "ext_ref": "ip:po_1",
        "doc_date": date(2025, 6, 2),
        "due_date": date(2025, 7, 1),
        "card_code": "V100",
        "reference": "PO-8",
    }
    values.update(kw)
    return Header(**values)  # type: ignore[arg-type]


def test_purchase_order_has_the_warehouse_on_every_line() -> None:
    body = payloads.build(header(), LINES)
    assert body["CardCode"] == "V100" and body["DocDueDate"] == "2025-07-01" and body["U_Ref"] == "ip:po_1"
    assert [line["WarehouseCode"] for line in body["DocumentLines"]] == ["01", "02"]
    assert "WarehouseCode" not in body and body["NumAtCard"] == "PO-8"


def test_purchase_request_uses_line_vendor_and_required_date() -> None:
    body = payloads.build(header("PurchaseRequests"), LINES)
    assert body["RequriedDate"] == "2025-07-01"
    assert all(line["LineVendor"] == "V100" for line in body["DocumentLines"])


def test_goods_issue_quantities_are_positive() -> None:
    body = payloads.build(header("InventoryGenExits", card_code=None), [Line(1, "A1", Decimal(-4), "01")])
    assert body["DocumentLines"] == [{"ItemCode": "A1", "Quantity": 4.0, "WarehouseCode": "01"}]


def test_production_order_shape() -> None:
    body = payloads.build(header("ProductionOrders"), [LINES[0]])
    assert body["ItemNo"] == "A1" and body["Warehouse"] == "01" and body["PlannedQuantity"] == 10.0


def test_corrections_fix_a_line() -> None:
    change = {"line_no": 2, "warehouse_code": "03", "quantity": 7}
    fixed = payloads.apply_corrections(LINES, {"lines": [change]})
    assert fixed[1].warehouse_code == "03" and fixed[1].quantity == Decimal(7) and fixed[0] == LINES[0]


def test_update_keeps_line_numbers_and_appends_new_lines() -> None:
    current = {
        "DocumentLines": [
            {"LineNum": 0, "ItemCode": "A1", "WarehouseCode": "01"},
            {"LineNum": 1, "ItemCode": "A9", "WarehouseCode": "01"},
        ]
    }
    created = payloads.build(header(), LINES)
    patch = payloads.update_for("PurchaseOrders", current, created)
    assert [line.get("LineNum") for line in patch["DocumentLines"]] == [0, None]
    assert [row["ItemCode"] for row in payloads.removed_lines(current, created)] == ["A9"]

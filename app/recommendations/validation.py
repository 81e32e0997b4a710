"""Validation of a recommendation (pure): every problem becomes an exception, never a failed post.

The caller gathers the facts (vendor mapping, warehouse mappings, SAP item master data) and this
module decides. Subjects are keyed by the thing that must be fixed (the vendor, the warehouse, the
SKU), so one exception per root cause is raised however many orders hit it, and `passed` lists
the subjects that checked out this time, so their exceptions clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

UNMAPPED_VENDOR = "UNMAPPED_VENDOR"
UNMAPPED_WAREHOUSE = "UNMAPPED_WAREHOUSE"
SKU_MISMATCH = "SKU_MISMATCH"
INACTIVE_ITEM = "INACTIVE_ITEM"
INVALID_QUANTITY = "INVALID_QUANTITY"
UNMAPPED_STATUS = "UNMAPPED_STATUS"


@dataclass(frozen=True)
class ItemFacts:
    """What SAP says about an item (Items: Valid, Frozen, PurchaseItem, ProcurementMethod...)."""

    item_code: str
    valid: bool = True
    frozen: bool = False
    purchasable: bool = True
    make: bool = False
    group: int | None = None

    @property
    def usable(self) -> bool:
        # Make items are produced, not bought: SAP marks them PurchaseItem=tNO on purpose.
        return self.valid and not self.frozen and (self.purchasable or self.make)


@dataclass(frozen=True)
class LineFacts:
    line_no: int
    sku: str | None
    quantity: Decimal | None
    ip_warehouse: str | None
    warehouse_code: str | None  # the receiving SAP warehouse chosen from the mapping, if any
    item: ItemFacts | None  # None: SAP does not know the SKU
    ip_line_id: str | None = None


@dataclass(frozen=True)
class Problem:
    type: str
    subject: dict[str, Any]
    message: str
    line_no: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "subject": self.subject, "message": self.message, "line_no": self.line_no}


@dataclass
class Outcome:
    problems: list[Problem] = field(default_factory=list)
    passed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def check(self, failed: bool, problem: Problem) -> None:
        if failed:
            self.problems.append(problem)
        else:
            self.passed.append((problem.type, problem.subject))


def _vendor(outcome: Outcome, vendor: str | None, card_code: str | None) -> None:
    subject = {"vendor": vendor or "(none)"}
    outcome.check(
        card_code is None,
        Problem(UNMAPPED_VENDOR, subject, f"IP vendor {vendor!r} has no SAP CardCode mapping"),
    )


def _quantity_ok(quantity: Decimal | None) -> bool:
    return quantity is not None and quantity.is_finite() and quantity > 0


def _line(outcome: Outcome, po_id: str, line: LineFacts) -> None:
    sku = line.sku or "(none)"
    outcome.check(
        line.warehouse_code is None,
        Problem(
            UNMAPPED_WAREHOUSE,
            {"warehouse": line.ip_warehouse or "(none)"},
            f"IP warehouse {line.ip_warehouse!r} has no SAP warehouse mapping",
            line.line_no,
        ),
    )
    outcome.check(
        line.item is None, Problem(SKU_MISMATCH, {"sku": sku}, f"SKU {sku!r} is unknown to SAP", line.line_no)
    )
    if line.item is not None:
        outcome.check(
            not line.item.usable,
            Problem(INACTIVE_ITEM, {"sku": sku}, _inactive_reason(line.item), line.line_no),
        )
    outcome.check(
        not _quantity_ok(line.quantity),
        Problem(
            INVALID_QUANTITY,
            {"sku": sku, "ip_po_id": po_id, "line": line.ip_line_id or str(line.line_no)},
            f"quantity {line.quantity!s} of {sku!r} is not a positive number",
            line.line_no,
        ),
    )


def _inactive_reason(item: ItemFacts) -> str:
    reasons = [
        text
        for bad, text in (
            (not item.valid, "inactive"),
            (item.frozen, "frozen"),
            (not item.purchasable, "not a purchase item"),
        )
        if bad
    ]
    return f"item {item.item_code!r} is {', '.join(reasons) or 'usable'} in SAP"


def validate(
    *,
    po_id: str,
    vendor: str | None,
    card_code: str | None,
    status: str | None,
    status_mapped: bool,
    lines: list[LineFacts],
) -> Outcome:
    outcome = Outcome()
    outcome.check(
        not status_mapped,
        Problem(
            UNMAPPED_STATUS, {"status": status or "(none)"}, f"IP status {status!r} has no configured type"
        ),
    )
    _vendor(outcome, vendor, card_code)
    for line in lines:
        _line(outcome, po_id, line)
    if not lines:
        outcome.problems.append(
            Problem(
                INVALID_QUANTITY,
                {"sku": "(none)", "ip_po_id": po_id, "line": "-"},
                "the purchase order has no lines",
            )
        )
    return outcome

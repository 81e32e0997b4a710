"""Every exception type, documented in one place: owner, default severity, title, suggested action.

Titles are `str.format` templates over the subject (`{sku}`, `{warehouse}`...); when a subject lacks
a key the title falls back to the label plus the subject text, so a detector can never break it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.models.exception import ExceptionStatus, ExceptionType, Owner, Severity

__all__ = ["SPECS", "TRANSITIONS", "ExceptionSpec", "ExceptionStatus", "ExceptionType", "Owner",
           "Severity", "spec_for"]


@dataclass(frozen=True)
class ExceptionSpec:
    owner: Owner
    severity: Severity
    label: str
    title: str
    action: str

    def render_title(self, subject: dict[str, Any], subject_text: str) -> str:
        try:
            return self.title.format_map(subject)[:300]
        except (KeyError, IndexError, ValueError):
            return f"{self.label} ({subject_text})"[:300] if subject_text else self.label


T, Ow, S = ExceptionType, Owner, Severity

SPECS: dict[ExceptionType, ExceptionSpec] = {
    T.SKU_MISMATCH: ExceptionSpec(
        Ow.operations, S.warning, "SKU mismatch",
        "Item {sku} is not the same item in SAP and Inventory Planner",
        "Align the item code in SAP and Inventory Planner so both name the same item."),
    T.INACTIVE_ITEM: ExceptionSpec(
        Ow.operations, S.warning, "Inactive item",
        "Item {sku} is inactive or frozen in SAP",
        "Reactivate the item in SAP, or drop it from the Inventory Planner order."),
    T.UNMAPPED_WAREHOUSE: ExceptionSpec(
        Ow.operations, S.error, "Unmapped warehouse",
        "Warehouse {warehouse} has no mapping",
        "Add a warehouse mapping under /mappings/warehouses; the sync picks it up on its next run."),
    T.WAREHOUSE_MAPPING_CONFLICT: ExceptionSpec(
        Ow.operations, S.error, "Warehouse mapping conflict",
        "IP warehouse {ip_warehouse} is fed by several SAP warehouses",
        "Set mode=aggregate on every mapping to that IP warehouse, or map the SAP warehouses apart."),
    T.UNMAPPED_CATEGORY: ExceptionSpec(
        Ow.operations, S.warning, "Unmapped item group",
        "SAP item group {item_group} has no IP category",
        "Add an item-group mapping under /mappings/item-groups."),
    T.UNMAPPED_VENDOR: ExceptionSpec(
        Ow.operations, S.error, "Unmapped vendor",
        "IP vendor {vendor} has no SAP business partner",
        "Add a vendor mapping (IP vendor → SAP CardCode) under /mappings/vendors."),
    T.NON_NETTABLE_STOCK: ExceptionSpec(
        Ow.operations, S.info, "Non-nettable stock excluded",
        "Stock of {sku} in non-nettable warehouse {warehouse} is not sent to IP",
        "If this stock should be planned, set include_non_nettable on the warehouse mapping."),
    T.STOCK_DRIFT: ExceptionSpec(
        Ow.operations, S.warning, "Stock drift",
        "Stock of {sku} in {warehouse} differs between SAP and Inventory Planner",
        "Check recent movements in SAP; a full sync re-sends the SAP figure if IP is wrong."),
    T.INVALID_QUANTITY: ExceptionSpec(
        Ow.operations, S.warning, "Invalid quantity",
        "Quantity for {sku} is not valid",
        "Correct the quantity at its source (IP order line or adjustment request) and retry."),
    T.DOCUMENT_CHANGE_REJECTED: ExceptionSpec(
        Ow.operations, S.warning, "Change to a posted document rejected",
        "Change to {document} was not applied: it is already in SAP",
        "Change the document in SAP directly, or cancel it there and re-issue it from IP."),
    T.SYNC_LAG: ExceptionSpec(
        Ow.integration, S.warning, "Sync lag",
        "Sync stream {stream} is behind",
        "Check the worker and the SAP Service Layer; the stream catches up once they answer."),
    T.FEED_DEADLINE_MISSED: ExceptionSpec(
        Ow.integration, S.error, "Feed deadline missed",
        "Feed {feed} did not land before IP's nightly sync",
        "Check the last feed run and the SFTP connection; IP uses yesterday's stock until it lands."),
    T.FEED_DELIVERY_FAILED: ExceptionSpec(
        Ow.integration, S.error, "Feed delivery failed",
        "Feed {feed} could not be delivered",
        "Check IP's SFTP credentials and reachability; delivery is retried automatically."),
    T.IP_BAD_PAYLOAD: ExceptionSpec(
        Ow.integration, S.warning, "Unreadable Inventory Planner data",
        "Inventory Planner sent data b1bridge cannot read",
        "See the evidence for the payload; report it if IP's format changed."),
    T.UNMAPPED_STATUS: ExceptionSpec(
        Ow.integration, S.warning, "Unmapped status",
        "Status {status} has no meaning configured",
        "Configure how this IP purchase-order status is handled."),
    T.SAP_BUSY: ExceptionSpec(
        Ow.integration, S.warning, "SAP busy",
        "SAP Service Layer is busy or locked",
        "Nothing to do unless it persists: posts are retried with backoff."),
    T.POST_FAILED: ExceptionSpec(
        Ow.integration, S.error, "Post to SAP failed",
        "Posting {document} to SAP failed",
        "Read SAP's answer in the evidence, correct the cause, then retry the exception."),
    T.LOCKED_PERIOD: ExceptionSpec(
        Ow.finance, S.error, "Locked posting period",
        "Posting period for {date} is locked in SAP",
        "Open the period in SAP, or approve posting in the first open period, then retry."),
    T.IP_PO_READONLY: ExceptionSpec(
        Ow.operations, S.warning, "Read-only IP purchase order",
        "IP purchase order {ip_po_id} is read-only: SAP receipts were not written to it",
        "Make the order editable in Inventory Planner; the next receipts run sends the totals."),
}


def spec_for(type_: ExceptionType) -> ExceptionSpec:
    return SPECS[type_]


St = ExceptionStatus
# API status changes: action → the statuses it may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[ExceptionStatus], ExceptionStatus]] = {
    "acknowledge": (frozenset({St.open}), St.acknowledged),
    "resolve": (frozenset({St.open, St.acknowledged}), St.resolved),
    "ignore": (frozenset({St.open, St.acknowledged}), St.ignored),
    "reopen": (frozenset({St.resolved, St.ignored}), St.open),
}
ACTIVE: frozenset[ExceptionStatus] = frozenset({St.open, St.acknowledged})
ESCALATING: frozenset[Severity] = frozenset({Severity.error, Severity.critical})

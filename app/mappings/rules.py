"""Pure mapping rules: code validation and the many-to-one warehouse rule (table-tested)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from app.models.mapping import WarehouseMode

# SAP B1 field sizes (OWHS.WhsCode nvarchar(8), OCRD.CardCode nvarchar(15)): longer codes cannot exist.
WAREHOUSE_CODE_MAX = 8
CARD_CODE_MAX = 15


def clean_code(value: object, *, max_length: int, what: str) -> str:
    """Trimmed, non-empty, at most `max_length` characters; ValueError says which rule failed."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"{what} must be a string")
    text = str(value).strip()
    if not text:
        raise ValueError(f"{what} must not be empty")
    if len(text) > max_length:
        raise ValueError(f"{what} {text!r} is {len(text)} characters; SAP allows at most {max_length}")
    if any(ch in text for ch in "\r\n\t"):
        raise ValueError(f"{what} must not contain tabs or line breaks")
    return text


def warehouse_code(value: object) -> str:
    return clean_code(value, max_length=WAREHOUSE_CODE_MAX, what="SAP warehouse code")


def card_code(value: object) -> str:
    return clean_code(value, max_length=CARD_CODE_MAX, what="SAP CardCode")


@dataclass(frozen=True)
class WarehouseLink:
    sap_warehouse_code: str
    ip_warehouse_id: str
    mode: WarehouseMode
    active: bool = True


def _shared(links: Iterable[WarehouseLink]) -> dict[str, list[WarehouseLink]]:
    groups: dict[str, list[WarehouseLink]] = defaultdict(list)
    for link in links:
        if link.active:  # an inactive mapping feeds nothing, so it cannot double-count stock
            groups[link.ip_warehouse_id].append(link)
    return groups


def violations(links: Iterable[WarehouseLink]) -> dict[str, list[WarehouseLink]]:
    """IP warehouses fed by several active SAP warehouses where not every mapping is `aggregate`.

    Summing several SAP warehouses into one IP warehouse must be a decision, never an accident: a
    `direct` mapping promises that its SAP warehouse alone is the IP warehouse's stock.
    """
    return {ip: sorted(group, key=lambda link: link.sap_warehouse_code)
            for ip, group in _shared(links).items()
            if len(group) > 1 and any(link.mode != WarehouseMode.aggregate for link in group)}


def conflict_for(candidate: WarehouseLink, others: Iterable[WarehouseLink]) -> list[WarehouseLink]:
    """The other mappings `candidate` clashes with (empty when it may be saved)."""
    rest = [link for link in others if link.sap_warehouse_code != candidate.sap_warehouse_code]
    group = violations([candidate, *rest]).get(candidate.ip_warehouse_id, [])
    if not candidate.active or not group:
        return []
    return [link for link in group if link.sap_warehouse_code != candidate.sap_warehouse_code]


def explain_conflict(candidate: WarehouseLink, clashing: list[WarehouseLink]) -> str:
    names = ", ".join(f"{link.sap_warehouse_code} ({link.mode})" for link in clashing)
    everyone = " and ".join(sorted({candidate.sap_warehouse_code, *(c.sap_warehouse_code for c in clashing)}))
    return (f"SAP warehouse {candidate.sap_warehouse_code} cannot map to IP warehouse "
            f"{candidate.ip_warehouse_id!r} in {candidate.mode} mode: {names} already map there. Several SAP "
            f"warehouses may feed one IP warehouse only when every one of them uses mode 'aggregate'; set "
            f"mode=aggregate on {everyone}, or map {candidate.sap_warehouse_code} to another IP warehouse.")

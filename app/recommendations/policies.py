"""Lifecycle, approval, document type and supersede rules (pure).

received → validated | blocked → approved → queued → posting → posted, or failed / held /
superseded / rejected. Only these edges exist; anything else is a 409 at the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.models.recommendation import DocumentType
from app.models.recommendation import RecommendationStatus as S
from app.recommendations.validation import ItemFacts

TRANSITIONS: dict[S, frozenset[S]] = {
    S.received: frozenset({S.validated, S.blocked, S.superseded, S.rejected}),
    S.validated: frozenset({S.approved, S.blocked, S.validated, S.superseded, S.rejected}),
    S.blocked: frozenset({S.validated, S.blocked, S.superseded, S.rejected}),
    S.approved: frozenset({S.queued, S.superseded, S.rejected}),
    S.queued: frozenset({S.posting, S.posted, S.held, S.failed, S.superseded}),
    S.posting: frozenset({S.posted, S.failed, S.held, S.queued}),
    S.failed: frozenset({S.queued, S.superseded, S.rejected, S.posting, S.posted}),
    S.held: frozenset({S.queued, S.superseded, S.rejected, S.posting, S.posted}),
    S.posted: frozenset({S.superseded}),
    S.superseded: frozenset(),
    S.rejected: frozenset(),
}
# Not yet in SAP: a newer version simply replaces these.
UNPOSTED = frozenset({S.received, S.validated, S.blocked, S.approved, S.queued, S.failed, S.held})


def can_transition(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


def after_validation(ok: bool, approval: str) -> S:
    """Auto approval goes straight to approved; manual waits in validated for POST /approve."""
    if not ok:
        return S.blocked
    return S.approved if approval == "auto" else S.validated


def supersedes(older: S) -> bool:
    """A newer version replaces an unposted older one. A posted one is not replaced but updated in
    SAP by the newer version's write (same external reference)."""
    return older in UNPOSTED or older is S.posting


def is_make(item: ItemFacts | None, make_groups: Iterable[int]) -> bool:
    return item is not None and (item.make or (item.group is not None and item.group in set(make_groups)))


def document_type(item: ItemFacts | None, *, configured: str, make_groups: Iterable[int]) -> DocumentType:
    if is_make(item, make_groups):
        return DocumentType.production_order
    return DocumentType(configured)


def choose_warehouse(sap_codes: Sequence[str]) -> str | None:
    """An IP warehouse fed by several (aggregated) SAP warehouses receives into the first SAP
    warehouse by code: deterministic, and documented so admins can order codes accordingly."""
    return sorted(sap_codes)[0] if sap_codes else None


@dataclass(frozen=True)
class Group:
    key: str  # "po" | "pr" | "wo:<line_no>"; part of the stable external reference
    doc_type: DocumentType
    line_nos: tuple[int, ...]


def group_lines(types: Sequence[tuple[int, DocumentType]]) -> list[Group]:
    """Bought lines share one PO (or PR); each make line is its own Production Order (one item)."""
    bought = tuple(n for n, t in types if t is not DocumentType.production_order)
    groups = []
    if bought:
        kind = next(t for n, t in types if n == bought[0])
        groups.append(Group("po" if kind is DocumentType.purchase_order else "pr", kind, bought))
    groups.extend(
        Group(f"wo:{n}", DocumentType.production_order, (n,))
        for n, t in types
        if t is DocumentType.production_order
    )
    return groups


def ext_ref(prefix: str, source_id: str, group_key: str) -> str:
    """`ip:{po_id}` for the PO of an IP PO: no version in it, so v2 finds and updates what v1
    posted instead of creating a second SAP PO. Other groups add their key."""
    return f"{prefix}:{source_id}" if group_key == "po" else f"{prefix}:{source_id}:{group_key}"

"""Recommendations: one per IP purchase-order version; validation, approval, supersede, queueing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit import service as audit
from app.config import Settings
from app.errors import Conflict, NotFound
from app.exceptions import service as exceptions
from app.integrations.inventory_planner.schemas import IPPurchaseOrder, StatusMap, StatusType
from app.kit.time import utcnow
from app.mappings import service as mapping_service
from app.models.recommendation import DocumentType, Recommendation, RecommendationLine
from app.models.recommendation import RecommendationStatus as S
from app.recommendations import policies, repository, validation
from app.recommendations.validation import ItemFacts, LineFacts
from app.writeback import payloads
from app.writeback import service as writeback

SYSTEM = "system:recommendations"


def content_hash(po: IPPurchaseOrder) -> str:
    """What SAP would see. Not the reference: after posting, IP's reference is our DocNum, and that
    echo must not look like a new version."""
    lines = sorted((i.id, i.sku, str(i.replenishment), str(i.cost_price)) for i in po.items)
    core = [po.vendor, po.warehouse, str(po.expected_date), po.currency, lines]
    return hashlib.sha256(json.dumps(core, default=str).encode()).hexdigest()


async def _warehouse(session: AsyncSession, ip_warehouse: str | None) -> str | None:
    if not ip_warehouse:
        return None
    mappings = await mapping_service.sap_warehouse_for_ip(session, ip_warehouse)
    return policies.choose_warehouse([m.sap_warehouse_code for m in mappings if m.active])


@dataclass
class Draft:
    rec: Recommendation
    lines: list[RecommendationLine]
    outcome: validation.Outcome


async def _draft(
    session: AsyncSession,
    settings: Settings,
    po: IPPurchaseOrder,
    version: int,
    items: dict[str, ItemFacts | None],
) -> Draft:
    card_code = await mapping_service.card_code_for_vendor(session, po.vendor) if po.vendor else None
    warehouse = await _warehouse(session, po.warehouse)
    rec = Recommendation(
        ip_po_id=po.id,
        version=version,
        ip_reference=po.reference,
        ip_status=po.status,
        ip_vendor=po.vendor,
        ip_warehouse=po.warehouse,
        ip_last_modified=po.last_modified,
        content_hash=content_hash(po),
        card_code=card_code,
        doc_due_date=po.expected_date,
        currency=(po.currency or None) and po.currency[:3],
    )
    facts, lines = [], []
    for n, item in enumerate(po.items, start=1):
        known = items.get(item.sku or "")
        facts.append(LineFacts(n, item.sku, item.replenishment, po.warehouse, warehouse, known, item.id))
        kind = policies.document_type(
            known,
            configured=settings.writeback.document_type,
            make_groups=settings.writeback.make_item_groups,
        )
        lines.append(
            RecommendationLine(
                recommendation_id=rec.id,
                line_no=n,
                ip_line_id=item.id,
                sku=item.sku,
                item_code=known.item_code if known else item.sku,
                ip_warehouse=po.warehouse,
                warehouse_code=warehouse,
                quantity=item.replenishment,
                price=item.cost_price,
                doc_type=kind,
            )
        )
    mapped = StatusMap().classify(po.status).mapped
    outcome = validation.validate(
        po_id=po.id,
        vendor=po.vendor,
        card_code=card_code,
        status=po.status,
        status_mapped=mapped,
        lines=facts,
    )
    return Draft(rec, lines, outcome)


async def _report(session: AsyncSession, rec: Recommendation, outcome: validation.Outcome) -> None:
    """Problems become exceptions (one per root cause); subjects that passed clear theirs."""
    for problem in outcome.problems:
        await exceptions.raise_exception(
            session,
            problem.type,
            problem.subject,
            message=problem.message,
            source="recommendations",
            related={"recommendation": rec.id, "ip_po_id": rec.ip_po_id},
        )
    failing = {(p.type, json.dumps(p.subject, sort_keys=True)) for p in outcome.problems}
    for kind, subject in outcome.passed:
        if (kind, json.dumps(subject, sort_keys=True)) not in failing:
            await exceptions.clear(session, kind, subject)
    rec.problems = [p.as_dict() for p in outcome.problems]


async def ingest(
    session: AsyncSession, settings: Settings, po: IPPurchaseOrder, items: dict[str, ItemFacts | None]
) -> Recommendation | None:
    """Apply one re-fetched PO. The same content again is no new version (but re-validates a
    blocked one: the mapping may have been fixed since)."""
    if po.kind != "po" or StatusMap().classify(po.status).type is StatusType.draft:
        return None
    latest = await repository.latest_for_po(session, po.id)
    if StatusMap().classify(po.status).type is StatusType.cancelled:
        await _cancel(session, latest)
        return latest
    if latest is not None and latest.content_hash == content_hash(po):
        if latest.status is S.blocked or latest.status == S.blocked.value:
            return await _revalidate(session, settings, po, items, latest)
        return latest
    draft = await _draft(session, settings, po, (latest.version + 1) if latest else 1, items)
    await repository.add_all(session, [draft.rec, *draft.lines])
    await _report(session, draft.rec, draft.outcome)
    if latest is not None and policies.supersedes(S(latest.status)):
        await _supersede(session, latest, draft.rec)
    await _decide(session, settings, draft.rec, draft.lines, draft.outcome.ok)
    return draft.rec


async def _revalidate(
    session: AsyncSession,
    settings: Settings,
    po: IPPurchaseOrder,
    items: dict[str, ItemFacts | None],
    rec: Recommendation,
) -> Recommendation:
    draft = await _draft(session, settings, po, rec.version, items)
    for old, new in zip(await repository.lines(session, rec.id), draft.lines, strict=False):
        old.item_code, old.warehouse_code, old.doc_type = new.item_code, new.warehouse_code, new.doc_type
    rec.card_code = draft.rec.card_code
    await _report(session, rec, draft.outcome)
    await _decide(session, settings, rec, await repository.lines(session, rec.id), draft.outcome.ok)
    return rec


async def _cancel(session: AsyncSession, latest: Recommendation | None) -> None:
    if latest is not None and S(latest.status) in policies.UNPOSTED:
        await _set(session, latest, S.rejected, SYSTEM, reason="cancelled in Inventory Planner")
        await writeback.supersede_source(session, latest.id)


async def _supersede(session: AsyncSession, older: Recommendation, newer: Recommendation) -> None:
    older.superseded_by = newer.id
    await _set(session, older, S.superseded, SYSTEM, reason=f"replaced by version {newer.version}")
    await writeback.supersede_source(session, older.id)


async def _set(
    session: AsyncSession, rec: Recommendation, status: S, actor: str, *, reason: str | None = None
) -> None:
    before = {"status": str(rec.status)}
    rec.status, rec.updated_at = status, utcnow()
    rec.status_reason = reason
    await audit.record(
        session,
        actor=actor,
        action=f"recommendation.{status.value}",
        entity_type="recommendation",
        entity_id=rec.id,
        before=before,
        after={"status": status.value},
        note=reason,
    )


async def _decide(
    session: AsyncSession, settings: Settings, rec: Recommendation, lines: list[RecommendationLine], ok: bool
) -> None:
    status = policies.after_validation(ok, settings.writeback.approval)
    await _set(session, rec, S.validated if status is S.approved else status, SYSTEM)
    if status is S.approved:
        await _approve(session, settings, rec, lines, SYSTEM)


async def _approve(
    session: AsyncSession,
    settings: Settings,
    rec: Recommendation,
    lines: list[RecommendationLine],
    actor: str,
) -> None:
    rec.approved_by, rec.approved_at = actor, utcnow()
    await _set(session, rec, S.approved, actor)
    for group, header, rows in documents(settings, rec, lines):
        await writeback.queue(
            session,
            source_type="recommendation",
            source_id=rec.id,
            entity=payloads.ENTITY_FOR_DOC_TYPE[group.doc_type.value],
            ext_ref=policies.ext_ref("ip", rec.ip_po_id, group.key),
            group_key=group.key,
            doc_date=utcnow().date(),
            header=header,
            lines=rows,
        )
    await _set(session, rec, S.queued, actor)


def documents(
    settings: Settings, rec: Recommendation, lines: list[RecommendationLine]
) -> list[tuple[policies.Group, dict[str, Any], list[dict[str, Any]]]]:
    groups = policies.group_lines([(line.line_no, DocumentType(line.doc_type)) for line in lines])
    by_no = {line.line_no: line for line in lines}
    header = {
        "card_code": rec.card_code,
        "reference": rec.ip_reference,
        "due_date": rec.doc_due_date.isoformat() if rec.doc_due_date else None,
        "comments": f"Inventory Planner PO {rec.ip_reference or rec.ip_po_id} v{rec.version}",
    }
    return [(group, header, [_row(by_no[n]) for n in group.line_nos]) for group in groups]


def _row(line: RecommendationLine) -> dict[str, Any]:
    return {
        "line_no": line.line_no,
        "item_code": line.item_code,
        "warehouse_code": line.warehouse_code,
        "quantity": str(line.quantity),
        "price": str(line.price) if line.price is not None else None,
    }


# --- API operations -----------------------------------------------------------------------------


async def get(session: AsyncSession, rec_id: str) -> Recommendation:
    rec = await repository.get(session, rec_id)
    if rec is None:
        raise NotFound(f"No recommendation {rec_id}.")
    return rec


async def approve(session: AsyncSession, settings: Settings, rec_id: str, actor: str) -> Recommendation:
    rec = await get(session, rec_id)
    if not policies.can_transition(S(rec.status), S.approved):
        raise Conflict(f"A {rec.status} recommendation cannot be approved.", status_now=str(rec.status))
    await _approve(session, settings, rec, await repository.lines(session, rec.id), actor)
    return rec


async def reject(session: AsyncSession, rec_id: str, actor: str, reason: str | None) -> Recommendation:
    rec = await get(session, rec_id)
    if not policies.can_transition(S(rec.status), S.rejected):
        raise Conflict(f"A {rec.status} recommendation cannot be rejected.", status_now=str(rec.status))
    await _set(session, rec, S.rejected, actor, reason=reason)
    await writeback.supersede_source(session, rec.id)
    return rec


async def dry_run(session: AsyncSession, settings: Settings, rec_id: str) -> list[dict[str, Any]]:
    """The exact SAP bodies approval would post (dated today; the period policy may re-date)."""
    rec = await get(session, rec_id)
    if not policies.can_transition(S(rec.status), S.approved):
        raise Conflict(f"A {rec.status} recommendation cannot be approved.", status_now=str(rec.status))
    out = []
    for group, header, rows in documents(settings, rec, await repository.lines(session, rec.id)):
        entity = payloads.ENTITY_FOR_DOC_TYPE[group.doc_type.value]
        head = payloads.Header(
            entity=entity,
            ext_ref_udf=settings.sap.ext_ref_udf,
            ext_ref=policies.ext_ref("ip", rec.ip_po_id, group.key),
            doc_date=utcnow().date(),
            due_date=date.fromisoformat(header["due_date"]) if header["due_date"] else None,
            card_code=header["card_code"],
            reference=header["reference"],
            comments=header["comments"],
        )
        lines = [
            payloads.Line(
                r["line_no"],
                r["item_code"],
                Decimal(r["quantity"]),
                r["warehouse_code"],
                Decimal(r["price"]) if r["price"] is not None else None,
            )
            for r in rows
        ]
        out.append({"entity": entity, "ext_ref": head.ext_ref, "body": payloads.build(head, lines)})
    return out


# --- reads for other domains --------------------------------------------------------------------


async def open_counts_by_sku(session: AsyncSession) -> dict[str, int]:
    """Open (not posted, superseded or rejected) recommendations per SKU: the sync's INACTIVE_ITEM
    detector raises for an inactive SAP item that one of them still orders."""
    return await repository.open_counts_by_sku(session)


async def latest_lines_for_po(session: AsyncSession, ip_po_id: str) -> list[RecommendationLine]:
    """The lines of an IP PO's newest version (IP line id, item code, warehouse)."""
    rec = await repository.latest_for_po(session, ip_po_id)
    return await repository.lines(session, rec.id) if rec is not None else []

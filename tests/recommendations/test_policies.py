from decimal import Decimal

from app.models.recommendation import DocumentType
from app.models.recommendation import RecommendationStatus as S
from app.recommendations import policies, validation
from app.recommendations.validation import ItemFacts, LineFacts


def line(n: int = 1, **kw: object) -> LineFacts:
    values: dict[str, object] = {
        "line_no": n,
        "sku": f"A{n}",
        "quantity": Decimal(4),
        "ip_warehouse": "w1",
        "warehouse_code": "01",
        "item": ItemFacts(f"A{n}"),
    }
    values.update(kw)
    return LineFacts(**values)  # type: ignore[arg-type]


def check(*lines: LineFacts, card_code: str | None = "V100", mapped: bool = True) -> validation.Outcome:
    return validation.validate(
        po_id="po_1",
        vendor="acme",
        card_code=card_code,
        status="open",
        status_mapped=mapped,
        lines=list(lines),
    )


def test_a_clean_order_passes_and_lists_what_to_clear() -> None:
    outcome = check(line())
    assert outcome.ok
    assert ("UNMAPPED_VENDOR", {"vendor": "acme"}) in outcome.passed


def test_every_problem_is_named() -> None:
    outcome = check(
        line(1, warehouse_code=None),
        line(2, item=None),
        line(3, quantity=Decimal(0)),
        line(4, item=ItemFacts("A4", frozen=True)),
        card_code=None,
        mapped=False,
    )
    assert {p.type for p in outcome.problems} == {
        "UNMAPPED_VENDOR",
        "UNMAPPED_WAREHOUSE",
        "SKU_MISMATCH",
        "INVALID_QUANTITY",
        "INACTIVE_ITEM",
        "UNMAPPED_STATUS",
    }


def test_not_purchasable_is_inactive() -> None:
    outcome = check(line(item=ItemFacts("A1", purchasable=False)))
    assert [p.type for p in outcome.problems] == ["INACTIVE_ITEM"]


def test_approval_modes() -> None:
    assert policies.after_validation(True, "auto") is S.approved
    assert policies.after_validation(True, "manual") is S.validated
    assert policies.after_validation(False, "auto") is S.blocked


def test_transitions() -> None:
    assert policies.can_transition(S.validated, S.approved)
    assert not policies.can_transition(S.posted, S.approved)
    assert not policies.can_transition(S.rejected, S.approved)


def test_make_items_become_production_orders() -> None:
    make = ItemFacts("B1", make=True)
    grouped = ItemFacts("B2", group=105)
    wo = DocumentType.production_order
    assert policies.document_type(make, configured="purchase_order", make_groups=[]) is wo
    assert (
        policies.document_type(grouped, configured="purchase_order", make_groups=[105])
        is DocumentType.production_order
    )
    assert (
        policies.document_type(ItemFacts("A"), configured="purchase_request", make_groups=[105])
        is DocumentType.purchase_request
    )


def test_grouping_and_stable_external_references() -> None:
    groups = policies.group_lines(
        [
            (1, DocumentType.purchase_order),
            (2, DocumentType.production_order),
            (3, DocumentType.purchase_order),
        ]
    )
    assert [(g.key, g.line_nos) for g in groups] == [("po", (1, 3)), ("wo:2", (2,))]
    assert policies.ext_ref("ip", "po_1", "po") == "ip:po_1"
    assert policies.ext_ref("ip", "po_1", "wo:2") == "ip:po_1:wo:2"


def test_receiving_warehouse_is_first_by_code() -> None:
    assert policies.choose_warehouse(["03", "01", "02"]) == "01"
    assert policies.choose_warehouse([]) is None

"""Our CSV specs and the emulator's (app/emulators/inventory_planner/specs.py) agree column for column.

Both are read from reference §2.1/§2.2; if either side changes, this test says where they part.
"""

from __future__ import annotations

import pytest

from app.emulators.inventory_planner import specs as emulator
from app.integrations.inventory_planner.csv_specs import DELIVERY_ORDER, SPECS, STARTER_PRODUCTS, Entity

PAIRS = [
    (Entity.warehouses, emulator.WAREHOUSES),
    (Entity.variants, emulator.VARIANTS),
    (Entity.variant_warehouses, emulator.VARIANT_WAREHOUSES),
    (Entity.stock_orders, emulator.STOCK_ORDERS),
    (Entity.sales_orders, emulator.SALES_ORDERS),
]


@pytest.mark.parametrize(("entity", "theirs"), PAIRS, ids=[e.value for e, _ in PAIRS])
def test_advanced_specs_match_the_emulator(entity: Entity, theirs: emulator.FileSpec) -> None:
    ours = SPECS[entity]
    assert ours.folder == theirs.entity
    assert ours.required == theirs.required
    assert ours.optional == theirs.optional


def test_our_headers_pass_the_emulators_header_check() -> None:
    for entity, theirs in PAIRS:
        spec = SPECS[entity]
        assert theirs.column_problem(list(spec.header(spec.optional))) is None
        assert theirs.column_problem(list(spec.header())) is None


def test_delivery_order_matches_the_emulators_dependency_order() -> None:
    theirs = [folder for folder in emulator.ENTITY_FOLDERS if folder != emulator.VENDORS.entity]
    assert [entity.value for entity in DELIVERY_ORDER] == theirs


def test_starter_products_match_case_insensitively() -> None:
    # The reference spells `SKU` upper-case (§2.1); the emulator's reader lower-cases headers.
    assert tuple(c.lower() for c in STARTER_PRODUCTS.required) == emulator.STARTER_PRODUCTS.required
    assert tuple(c.lower() for c in STARTER_PRODUCTS.optional) == emulator.STARTER_PRODUCTS.optional

"""Spooled CSV rows given as tuples: the same bytes as the reference writer, the same refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.integrations.inventory_planner.csv_specs import Entity
from app.integrations.inventory_planner.errors import FeedValidationError
from app.integrations.inventory_planner.feeds import render_feed
from app.sync import rules
from app.sync.sinks import Sinks

NOW = datetime(2026, 12, 4, 15, 1, 2, tzinfo=UTC)


def _spooled(tmp_path: Path, rows: list[tuple[Any, ...]]) -> bytes:
    sinks = Sinks(tmp_path)
    add = sinks.adder(Entity.variant_warehouses, rules.STOCK_COLUMNS)
    for row in rows:
        add(row)
    (file,) = sinks.finish()
    return file.path.read_bytes()


def test_tuple_rows_are_written_as_the_reference_writer_writes_them(tmp_path: Path) -> None:
    rows = [
        rules.stock_row("A00001", "01", 12.5, now=NOW),
        rules.stock_row('A,00"2', "01", 12.5, now=NOW),  # quoted as csv quotes it
        rules.stock_row("A00003", "02", None, now=NOW),  # REMOVED, IN_STOCK 0
        rules.stock_row("A00004", "02", -3.0, now=NOW),
        rules.stock_row("A00005", "02", 1e-7, now=NOW),  # no exponent, remembered or not
        rules.stock_row("A00006", "02", 1e-7, now=NOW),
    ]
    expected = render_feed(
        Entity.variant_warehouses, [dict(zip(rules.STOCK_COLUMNS, r, strict=True)) for r in rows]
    )
    assert _spooled(tmp_path, rows) == expected


@pytest.mark.parametrize(
    "bad",
    [
        ("A00001", "01", True, False, NOW),  # a bool is no number, though True == 1.0 was formatted before
        ("A00001", "01", float("nan"), False, NOW),
        ("A00001", "01", 1.0, 1, NOW),  # 1 is no boolean, though 1 == True was formatted before
        ("", "01", 1.0, False, NOW),
        ("A00001", "01", 1.0, False, datetime(2026, 1, 1)),  # naive
    ],
)
def test_a_row_ip_could_not_read_is_refused_after_good_ones(tmp_path: Path, bad: tuple[Any, ...]) -> None:
    add = Sinks(tmp_path).adder(Entity.variant_warehouses, rules.STOCK_COLUMNS)
    add(("A00000", "01", 1.0, True, NOW))
    with pytest.raises(FeedValidationError, match="row 2"):
        add(bad)


def test_rows_must_come_in_header_order(tmp_path: Path) -> None:
    add = Sinks(tmp_path).adder(Entity.variant_warehouses, tuple(reversed(rules.STOCK_COLUMNS)))
    with pytest.raises(ValueError, match="header order"):
        add(("x",) * 5)

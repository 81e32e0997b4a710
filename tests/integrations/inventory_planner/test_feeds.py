"""Advanced CSV writers and validator, file names, and the Starter snapshot (reference §2)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.integrations.inventory_planner.csv_specs import SPECS, Entity
from app.integrations.inventory_planner.errors import FeedValidationError
from app.integrations.inventory_planner.feeds import (
    build_starter_products,
    current_starter_file,
    feed_file_name,
    format_float,
    render_feed,
    starter_path,
    validate_file,
    write_feed,
)

AT = datetime(2026, 12, 4, 15, 1, 2, 123456, tzinfo=UTC)
HEAD = b"VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT\n"


def stock_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {"VARIANT_ID": "A00001", "WAREHOUSE_ID": "01", "IN_STOCK": Decimal("12.5"),
                              "REMOVED": False, "UPDATED_AT": AT}
    row.update(overrides)
    return row


def product_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {"product_id": "A00001", "title": "Widget", "price": Decimal("9.90"),
                              "SKU": "A00001", "created_at": date(2026, 1, 2), "stock_quantity": 7}
    row.update(overrides)
    return row


def test_variant_warehouse_file_has_exact_header_and_formats() -> None:
    data = render_feed(Entity.variant_warehouses, [stock_row(), stock_row(IN_STOCK=-3, REMOVED=True)])
    assert data.decode().splitlines() == [
        "VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT",
        "A00001,01,12.5,false,2026-12-04 15:01:02",
        "A00001,01,-3,true,2026-12-04 15:01:02",
    ]
    assert validate_file(data, Entity.variant_warehouses).ok


def test_timestamps_are_converted_to_utc_ntz() -> None:
    local = AT.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    data = render_feed(Entity.warehouses, [{"WAREHOUSE_ID": "01", "DISPLAY_NAME": "Main", "UPDATED_AT": local,
                                            "REMOVED": False}])
    assert data.decode().splitlines()[1] == "01,Main,2026-12-04 15:01:02,false"


@pytest.mark.parametrize(("value", "text"), [
    (1e-7, "0.0000001"), (Decimal("1E+3"), "1000"), (2.50, "2.5"), (-0.0, "0"), ("3.000", "3"),
])
def test_floats_never_use_exponents(value: object, text: str) -> None:
    assert format_float(value) == text


def test_optional_columns_only_when_asked_and_only_known_ones() -> None:
    data = render_feed(Entity.variant_warehouses, [stock_row(MIN_STOCK=2)], optional=["MIN_STOCK"])
    assert data.decode().splitlines()[0].endswith(",MIN_STOCK")
    with pytest.raises(ValueError):
        render_feed(Entity.variant_warehouses, [], optional=["STOCK_ON_HAND"])


@pytest.mark.parametrize("bad", [
    {"IN_STOCK": None}, {"IN_STOCK": "lots"}, {"IN_STOCK": float("nan")}, {"REMOVED": "no"},
    {"UPDATED_AT": datetime(2026, 1, 1)}, {"VARIANT_ID": ""}, {"EXTRA": 1},
])
def test_writer_refuses_rows_ip_could_not_read(bad: dict[str, object]) -> None:
    with pytest.raises(FeedValidationError):
        render_feed(Entity.variant_warehouses, [stock_row(**bad)])


@pytest.mark.parametrize(("content", "problem"), [
    (b"VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED\n", "missing required column(s): UPDATED_AT"),
    (b"VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT,STOCK\n", "unsupported column(s): STOCK"),
    (HEAD + b"A,01,1e3,false,2026-12-04 15:01:02\n", "IN_STOCK"),
    (HEAD + b"A,01,1,False,2026-12-04 15:01:02\n", "REMOVED"),
    (HEAD + b"A,01,1,false,2026-12-04T15:01:02\n", "UPDATED_AT"),
    (HEAD + b"A,01,1,false\n", "4 cells for 5 columns"),
    (HEAD + b",01,1,false,2026-12-04 15:01:02\n", "VARIANT_ID"),
    (b"variant_id,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT\n", "missing required"),
    (b"", "empty"),
])
def test_validator_reports_what_ip_would_skip(content: bytes, problem: str) -> None:
    report = validate_file(content, Entity.variant_warehouses)
    assert not report.ok
    assert problem in "; ".join(report.problems)
    with pytest.raises(FeedValidationError):
        report.raise_for_errors()


def test_write_feed_returns_sha_and_rows_and_file_validates(tmp_path: Path) -> None:
    path = tmp_path / feed_file_name(Entity.variant_warehouses, AT, 1)
    feed = write_feed(path, Entity.variant_warehouses, (stock_row(VARIANT_ID=f"A{i:05d}") for i in range(50)))
    assert feed.rows == 50 and feed.size == path.stat().st_size
    report = validate_file(path, Entity.variant_warehouses)
    assert report.sha256 == feed.sha256 and report.rows == 50


def test_write_feed_leaves_nothing_when_a_row_is_bad(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    with pytest.raises(FeedValidationError):
        write_feed(path, Entity.variant_warehouses, [stock_row(), stock_row(IN_STOCK="x")])
    assert list(tmp_path.iterdir()) == []


def test_every_spec_round_trips_a_full_row() -> None:
    samples = {"string": "x", "float": 1, "boolean": True, "timestamp": AT, "date": AT.date()}
    for entity, spec in SPECS.items():
        row = {c.name: (c.choices[0] if c.choices else samples[c.type.value]) for c in spec.columns}
        data = render_feed(entity, [row], optional=spec.optional)
        assert validate_file(data, entity).ok, entity


def test_file_names_are_unique_and_sort_oldest_first() -> None:
    moments = [AT, AT + timedelta(microseconds=1), AT + timedelta(seconds=1), AT + timedelta(days=40)]
    names = [feed_file_name(Entity.stock_orders, m) for m in moments]
    names.append(feed_file_name(Entity.stock_orders, moments[-1]))  # same instant: seq differs
    assert sorted(names) == names and len(set(names)) == len(names)
    assert names[0].startswith("stock-orders_20261204T150102_123456Z_")


def test_starter_snapshot_publishes_validated_file_with_etag(tmp_path: Path) -> None:
    path = starter_path(tmp_path, "wh-01")
    published = build_starter_products(path, [product_row(), product_row(product_id="A2", SKU="A2")],
                                       optional=["cost_price"])
    header = "product_id,title,price,SKU,created_at,stock_quantity,cost_price"
    assert path.read_text().splitlines()[0] == header
    assert published.rows == 2 and published.etag.startswith('"')
    assert published.not_modified(published.etag) and not published.not_modified('"other"')
    assert published.not_modified(None, published.last_modified_http)
    assert current_starter_file(path) == published


def test_starter_failure_mid_stream_keeps_the_previous_file(tmp_path: Path) -> None:
    path = starter_path(tmp_path, "wh-01")
    before = build_starter_products(path, [product_row()])

    def rows() -> object:
        yield product_row(product_id="A2")
        raise RuntimeError("SAP went away mid-export")

    with pytest.raises(RuntimeError):
        build_starter_products(path, rows())  # type: ignore[arg-type]
    assert current_starter_file(path) == before
    assert os.listdir(path.parent) == ["products.csv"]  # no temp file left behind


def test_starter_refuses_an_empty_snapshot_that_would_delete_everything(tmp_path: Path) -> None:
    path = starter_path(tmp_path, "wh-01")
    with pytest.raises(FeedValidationError):
        build_starter_products(path, [])
    assert not path.exists()
    assert build_starter_products(path, [], allow_empty=True).rows == 0


def test_starter_path_rejects_traversal(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        starter_path(tmp_path, "../etc")


@pytest.mark.parametrize(
    ("kind", "text", "ok"),
    [
        ("timestamp", "2026-12-04 15:01:02", True),
        ("timestamp", "2026-13-04 15:01:02", False),  # month 13: the layout matches, the value does not
        ("timestamp", "2026-02-30 00:00:00", False),
        ("timestamp", "2026-12-04T15:01:02", False),  # IP wants TIMESTAMP_NTZ with a space
        ("timestamp", "2026-12-04 15:01:02+00:00", False),
        ("date", "2026-02-28", True),
        ("date", "2026-02-29", False),
        ("date", "20260228", False),
    ],
)
def test_the_validator_refuses_impossible_dates_and_other_layouts(kind: str, text: str, ok: bool) -> None:
    from app.integrations.inventory_planner.csv_specs import Column, ColumnType
    from app.integrations.inventory_planner.feeds import cell_problem

    column = Column("UPDATED_AT", ColumnType(kind), required=True)
    assert (cell_problem(column, text) is None) is ok

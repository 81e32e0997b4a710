"""A produced file is validated streaming from disk, with the same verdict as from bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.integrations.inventory_planner.csv_specs import Entity
from app.integrations.inventory_planner.feeds import validate_file

HEADER = b"VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT\r\n"
ROW = b"A1,01,5.0,false,2025-06-01 10:00:00\r\n"


@pytest.mark.parametrize(
    "content",
    [
        HEADER + ROW * 3,
        HEADER + ROW + b"A2,01,lots,false,2025-06-01 10:00:00\r\n",
        b"\xef\xbb\xbf" + HEADER + ROW,
        HEADER + ROW + b"A\xff,01,5.0,false,2025-06-01 10:00:00\r\n",
        HEADER + b"A1,01\r\n",
        b"",
    ],
)
def test_a_file_on_disk_gets_the_report_its_bytes_get(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "stock.csv"
    path.write_bytes(content)
    assert validate_file(path, Entity.variant_warehouses) == validate_file(content, Entity.variant_warehouses)


def test_a_large_file_is_counted_and_hashed_whole(tmp_path: Path) -> None:
    content = HEADER + ROW * 60_000  # > the 1 MiB read chunk
    path = tmp_path / "stock.csv"
    path.write_bytes(content)
    report = validate_file(path, Entity.variant_warehouses)
    assert report.ok and report.rows == 60_000 and report.size == len(content)
    assert report == validate_file(content, Entity.variant_warehouses)

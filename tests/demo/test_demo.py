"""The README's first command works: `b1bridge demo` starts everything, seeds the bad cases and posts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.server import free_port


def test_demo_runs_syncs_posts_and_raises_the_seeded_exceptions(tmp_path: Path) -> None:
    # A leftover from an earlier run: the demo must start clean, since its emulators start empty.
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "b1bridge.db").write_text("not a database from this run")
    ports = [str(free_port()) for _ in range(4)]
    command = [
        sys.executable,
        "-m",
        "app",
        "demo",
        "--data-dir",
        str(tmp_path / "demo"),
        "--duration",
        "20",
        "--port",
        ports[0],
        "--sap-port",
        ports[1],
        "--ip-port",
        ports[2],
        "--sftp-port",
        ports[3],
    ]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "200"}  # embedded defaults only
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=240, env=env, cwd=Path(__file__).resolve().parents[2]
    )
    output = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "starting from a clean demo state" in output
    assert "first full sync: succeeded" in output
    assert re.search(r"Admin API key\s+b1b_", output)
    assert "409" in output  # the many-to-one mapping attempt was refused
    for kind in (
        "UNMAPPED_WAREHOUSE",
        "UNMAPPED_CATEGORY",
        "UNMAPPED_VENDOR",
        "NON_NETTABLE_STOCK",
        "INACTIVE_ITEM",
        "STOCK_DRIFT",
        "SKU_MISMATCH",
    ):
        assert kind in output, kind
    # Only the SKU the demo skewed in IP drifts: IP synced after our files landed, not before.
    assert "'STOCK_DRIFT': 1" in output
    assert "PurchaseOrders" in output  # orders saved in IP became SAP purchase orders
    assert list((tmp_path / "demo" / "ip-sftp").rglob("variant-warehouses_*.csv"))

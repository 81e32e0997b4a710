"""Advanced CSV over SFTP (reference §2.2, §11.9, §11.10), through a real asyncssh client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncssh
import pytest

from app.emulators.inventory_planner import specs
from tests.emulators.inventory_planner.conftest import Emulator

WAREHOUSES = "WAREHOUSE_ID,DISPLAY_NAME,UPDATED_AT,REMOVED\n01,Main,2025-06-01 10:00:00,false\n"
VARIANTS = (
    "VARIANT_ID,SKU,TITLE,BARCODE,PRODUCT_ID,PRICE,CREATED_AT,UPDATED_AT,REMOVED\n"
    "N1,N1,New one,111,P1,9.5,2025-06-01,2025-06-01,false\n"
)
STOCK_HEADER = "VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT\n"


@pytest.fixture
def ip_sftp(start_ip) -> Emulator:
    emulator: Emulator = start_ip(sftp_port=0)
    return emulator


@pytest.fixture
async def sftp(ip_sftp: Emulator) -> AsyncIterator[asyncssh.SFTPClient]:
    store = ip_sftp.store
    known = asyncssh.import_known_hosts(store.sftp_known_hosts_line + "\n")
    async with (
        asyncssh.connect(
            "127.0.0.1",
            store.sftp_port,
            username="b1bridge",
            password="demo-sftp-password",
            known_hosts=known,
        ) as conn,
        conn.start_sftp_client() as client,
    ):
        yield client


async def upload(sftp: asyncssh.SFTPClient, path: str, text: str, mtime: float | None = None) -> None:
    """Write under a temp name, then rename: the way a careful client publishes a complete file."""
    async with sftp.open(path + ".part", "w") as handle:
        await handle.write(text)
    await sftp.posix_rename(path + ".part", path)
    if mtime is not None:
        await sftp.utime(path, (mtime, mtime))


def _stock(ip: Emulator, sku: str) -> list[dict[str, Any]]:
    variants = ip.get("/api/v1/variants", params={"sku": sku}).json()["variants"]
    return variants[0]["warehouse"] if variants else []


def _files(ip: Emulator) -> list[dict[str, Any]]:
    return ip.control("GET", "/stats").json()["ingest"]["files"]


async def test_wrong_password_is_refused(ip_sftp: Emulator) -> None:
    known = asyncssh.import_known_hosts(ip_sftp.store.sftp_known_hosts_line + "\n")
    with pytest.raises(asyncssh.PermissionDenied):
        await asyncssh.connect(
            "127.0.0.1", ip_sftp.store.sftp_port, username="b1bridge", password="wrong", known_hosts=known
        )


async def test_valid_files_become_visible_only_after_sync(ip_sftp: Emulator, sftp) -> None:
    await upload(sftp, "warehouses/wh-1.csv", WAREHOUSES, mtime=1000)
    await upload(sftp, "variants/v-1.csv", VARIANTS, mtime=1000)
    await upload(
        sftp,
        "variant-warehouses/s-1.csv",
        STOCK_HEADER + "N1,01,7,false,2025-06-01\nA00001,01,-2.5,false,2025-06-01\n",
        mtime=1000,
    )
    assert _stock(ip_sftp, "N1") == []  # IP only reads connections during the nightly sync
    ip_sftp.control("POST", "/sync")
    assert _stock(ip_sftp, "N1")[0]["in_stock"] == 7
    assert ip_sftp.store.stock_of("A00001", "c123_csv.01") == -2.5  # negative available stock is kept
    assert await sftp.exists("variant-warehouses/processed/s-1.csv")  # never ingested twice
    assert all(f["status"] == "ingested" for f in _files(ip_sftp))


async def test_unknown_column_skips_whole_file_with_reason(ip_sftp: Emulator, sftp) -> None:
    await upload(
        sftp,
        "variant-warehouses/bad.csv",
        "VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT,COMMITTED\nA00001,01,5,false,2025-06-01,1\n",
    )
    ip_sftp.control("POST", "/sync")
    [report] = _files(ip_sftp)
    assert report["status"] == "skipped" and "COMMITTED" in report["reason"]
    assert ip_sftp.store.stock_of("A00001", "c123_csv.01") is None


async def test_missing_required_column_skips_file(ip_sftp: Emulator, sftp) -> None:
    await upload(
        sftp, "variant-warehouses/bad.csv", "VARIANT_ID,WAREHOUSE_ID,IN_STOCK,UPDATED_AT\nA00001,01,5,x\n"
    )
    ip_sftp.control("POST", "/sync")
    assert "REMOVED" in _files(ip_sftp)[0]["reason"]


async def test_removed_true_soft_deletes_stock_row(ip_sftp: Emulator, sftp) -> None:
    await upload(
        sftp, "variant-warehouses/s-1.csv", STOCK_HEADER + "A00001,01,5,false,2025-06-01\n", mtime=1000
    )
    ip_sftp.control("POST", "/sync")
    await upload(
        sftp, "variant-warehouses/s-2.csv", STOCK_HEADER + "A00001,01,5,true,2025-06-02\n", mtime=2000
    )
    ip_sftp.control("POST", "/sync")
    assert ip_sftp.store.stock_of("A00001", "c123_csv.01") is None
    assert ip_sftp.store.catalog.stock[("c123_csv.A00001", "c123_csv.01")]["removed"] is True


async def test_files_are_processed_oldest_first_not_by_name(ip_sftp: Emulator, sftp) -> None:
    await upload(
        sftp, "variant-warehouses/b-older.csv", STOCK_HEADER + "A00001,01,5,false,2025-06-01\n", mtime=1000
    )
    await upload(
        sftp, "variant-warehouses/a-newer.csv", STOCK_HEADER + "A00001,01,9,false,2025-06-02\n", mtime=2000
    )
    ip_sftp.control("POST", "/sync")
    assert [f["name"] for f in _files(ip_sftp)] == ["b-older.csv", "a-newer.csv"]
    assert ip_sftp.store.stock_of("A00001", "c123_csv.01") == 9


async def test_temp_named_file_is_never_read(ip_sftp: Emulator, sftp) -> None:
    async with sftp.open("variant-warehouses/s-1.csv.part", "w") as handle:
        await handle.write(STOCK_HEADER + "A00001,01,5,false,2025-06-01\n")
    ip_sftp.control("POST", "/sync")
    assert _files(ip_sftp) == []
    assert await sftp.exists("variant-warehouses/s-1.csv.part")


async def test_file_still_being_uploaded_is_not_read(ip_sftp: Emulator, sftp) -> None:
    async with sftp.open("variant-warehouses/s-1.csv", "w") as handle:
        await handle.write(STOCK_HEADER + "A00001,01,5,false,")
        ip_sftp.control("POST", "/sync")  # mid-upload: the open handle hides the file
        await handle.write("2025-06-01\n")
    assert _files(ip_sftp) == []
    ip_sftp.control("POST", "/sync")
    assert ip_sftp.store.stock_of("A00001", "c123_csv.01") == 5


async def test_rows_for_unknown_variants_are_skipped_and_recorded(ip_sftp: Emulator, sftp) -> None:
    await upload(
        sftp,
        "variant-warehouses/s-1.csv",
        STOCK_HEADER + "NOPE,01,5,false,2025-06-01\nA00001,99,5,false,2025-06-01\n",
    )
    ip_sftp.control("POST", "/sync")
    skipped = _files(ip_sftp)[0]["rows_skipped"]
    assert [r["reason"] for r in skipped] == ["unknown variant NOPE", "unknown warehouse 99"]


async def test_reused_file_name_is_skipped(ip_sftp: Emulator, sftp) -> None:
    await upload(sftp, "variant-warehouses/s.csv", STOCK_HEADER + "A00001,01,5,false,2025-06-01\n")
    ip_sftp.control("POST", "/sync")
    await upload(sftp, "variant-warehouses/s.csv", STOCK_HEADER + "A00001,01,8,false,2025-06-02\n")
    ip_sftp.control("POST", "/sync")
    assert _files(ip_sftp)[1]["status"] == "skipped"
    assert ip_sftp.store.stock_of("A00001", "c123_csv.01") == 5


def test_spec_table_matches_reference_columns() -> None:
    assert (
        specs.VARIANT_WAREHOUSES.column_problem(
            ["VARIANT_ID", "WAREHOUSE_ID", "IN_STOCK", "REMOVED", "UPDATED_AT", "MIN_STOCK"]
        )
        is None
    )
    assert specs.WAREHOUSES.column_problem(["WAREHOUSE_ID", "DISPLAY_NAME", "UPDATED_AT"]) is not None
    assert set(specs.ENTITY_FOLDERS) == {
        "warehouses",
        "variants",
        "variant-warehouses",
        "stock-orders",
        "sales-orders",
        "vendors",
    }


async def test_same_name_upload_keeps_only_the_newest(ip_sftp: Emulator, sftp) -> None:
    await upload(sftp, "variant-warehouses/s.csv", STOCK_HEADER + "A00001,01,5,false,2025-06-01\n")
    await upload(sftp, "variant-warehouses/s.csv", STOCK_HEADER + "A00001,01,6,false,2025-06-01\n")
    ip_sftp.control("POST", "/sync")
    ingest = ip_sftp.control("GET", "/stats").json()["ingest"]
    assert [s["name"] for s in ingest["superseded"]] == ["s.csv"]
    assert len(ingest["files"]) == 1 and ip_sftp.store.stock_of("A00001", "c123_csv.01") == 6


async def test_stock_order_file_becomes_a_read_only_po(ip_sftp: Emulator, sftp) -> None:
    header = (
        "ID,REFERENCE,STATUS,WAREHOUSE,VENDOR,SOURCE_WAREHOUSE,CURRENCY,CREATED_DATE,LINE_ITEM_ID,"
        "VARIANT_ID,SKU,BARCODE,TITLE,REPLENISHMENT,RECEIVED,RECEIVED_DATE,COST_PRICE,REMOVED,UPDATED_AT\n"
    )
    row = "SO1,PO-SAP-1,OPEN,01,V10000,,USD,2025-06-01,L1,A00001,A00001,,Item,10,2,,1.5,false,2025-06-01\n"
    await upload(sftp, "stock-orders/so-1.csv", header + row)
    ip_sftp.control("POST", "/sync")
    po = ip_sftp.get("/api/v1/purchase-orders/c123_csv.SO1").json()["purchase-order"]
    assert (po["status"], po["readonly"], po["vendor"], po["items"][0]["remaining"]) == (
        "open",
        True,
        "v10000",
        8,
    )

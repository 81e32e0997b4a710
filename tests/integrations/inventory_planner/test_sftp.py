"""Advanced CSV delivery over real SFTP: the emulator's drop box, and a faulty in-test server."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh
import httpx
import pytest

from app.emulators.inventory_planner.app import create_app
from app.emulators.inventory_planner.config import IPEmulatorConfig
from app.integrations.inventory_planner.client import InventoryPlannerClient
from app.integrations.inventory_planner.csv_specs import Entity
from app.integrations.inventory_planner.feeds import feed_file_name, write_feed
from app.integrations.inventory_planner.sftp import LocalFile, SftpConfig, SftpDelivery, in_delivery_order
from tests.integrations.inventory_planner.conftest import Emulator
from tests.support.server import serve

AT = datetime(2026, 12, 4, 15, 1, 2, tzinfo=UTC)


def stock_file(folder: Path, qty: float, variant: str = "A00003", warehouse: str = "01") -> LocalFile:
    path = folder / feed_file_name(Entity.variant_warehouses)
    rows = [{"VARIANT_ID": variant, "WAREHOUSE_ID": warehouse, "IN_STOCK": qty, "REMOVED": False,
             "UPDATED_AT": AT}]
    write_feed(path, Entity.variant_warehouses, rows)
    return LocalFile(path, Entity.variant_warehouses)


def invalid_file(folder: Path) -> LocalFile:
    path = folder / feed_file_name(Entity.variant_warehouses)
    path.write_text("VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT,STOCK_ON_HAND\nA00003,01,5,false,"
                    "2026-12-04 15:01:02,5\n")
    return LocalFile(path, Entity.variant_warehouses)


def remote_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def stock_of(ip: InventoryPlannerClient, variant: str, warehouse: str) -> Any:
    found = await ip.get_variant(f"c123_csv.{variant}")
    return next((b.in_stock for b in found.warehouse if b.warehouse == f"c123_csv.{warehouse}"), None)


async def test_valid_file_changes_ip_stock_after_the_nightly_sync(
    emulator: Emulator, ip: InventoryPlannerClient, tmp_path: Path
) -> None:
    file = stock_file(tmp_path, 42.5)
    [result] = await SftpDelivery(emulator.sftp).deliver([file])
    assert result.delivered and result.error is None and result.rows == 1 and result.sha256
    assert result.remote_path == f"/variant-warehouses/{file.path.name}"
    assert await stock_of(ip, "A00003", "01") != 42.5  # IP shows nothing before its sync (§3)
    report = emulator.sync()
    assert [(f["name"], f["status"]) for f in report["files"]] == [(file.path.name, "ingested")]
    assert await stock_of(ip, "A00003", "01") == 42.5


async def test_invalid_file_is_refused_before_upload_and_later_files_stay_queued(
    emulator: Emulator, tmp_path: Path
) -> None:
    good_before = stock_file(tmp_path, 1)
    bad = invalid_file(tmp_path)
    good_after = stock_file(tmp_path, 2)
    results = await SftpDelivery(emulator.sftp).deliver([good_before, bad, good_after])
    assert [r.delivered for r in results] == [True, False, False]
    assert "unsupported column(s): STOCK_ON_HAND" in (results[1].error or "")
    assert results[1].attempted and not results[2].attempted
    assert remote_files(emulator.root) == [f"variant-warehouses/{good_before.path.name}"]


async def test_files_are_delivered_in_order_into_entity_folders(emulator: Emulator, tmp_path: Path) -> None:
    warehouse = tmp_path / feed_file_name(Entity.warehouses)
    write_feed(warehouse, Entity.warehouses, [{"WAREHOUSE_ID": "09", "DISPLAY_NAME": "New", "UPDATED_AT": AT,
                                               "REMOVED": False}])
    stock = stock_file(tmp_path, 3, warehouse="09")
    results = await SftpDelivery(emulator.sftp).deliver([LocalFile(warehouse, Entity.warehouses), stock])
    assert all(r.delivered for r in results)
    assert results[0].delivered_at <= results[1].delivered_at  # type: ignore[operator]
    report = emulator.sync()
    assert [f["status"] for f in report["files"]] == ["ingested", "ingested"]
    assert report["files"][1]["rows"] == 1


async def test_wrong_host_key_is_refused_and_nothing_uploaded(emulator: Emulator, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()
    known = tmp_path / "wrong_known_hosts"
    known.write_text(f"[127.0.0.1]:{emulator.sftp.port} {other[0]} {other[1]}\n")
    [result] = await SftpDelivery(replace(emulator.sftp, known_hosts=str(known))).deliver(
        [stock_file(tmp_path, 1)])
    assert not result.delivered and result.attempts == 1  # a host-key mismatch is never retried
    assert remote_files(emulator.root) == []


async def test_wrong_password_fails_without_retrying(emulator: Emulator, tmp_path: Path) -> None:
    [result] = await SftpDelivery(replace(emulator.sftp, password="nope")).deliver([stock_file(tmp_path, 1)])
    assert not result.delivered and result.attempts == 1 and "PermissionDenied" in (result.error or "")


async def test_unreachable_server_is_retried_then_reported(tmp_path: Path) -> None:
    config = SftpConfig(host="127.0.0.1", port=1, username="x", password="y", attempts=3, backoff_seconds=0)
    [result] = await SftpDelivery(config).deliver([stock_file(tmp_path, 1)])
    assert not result.delivered and result.attempts == 3 and result.error


# --- an in-test SFTP server that breaks mid-upload (the real protocol, a faulty peer) ----------


@dataclass
class Breaker:
    writes: int = 0
    broken: bool = True
    posix_rename: bool = True
    mid_upload: asyncio.Event = field(default_factory=asyncio.Event)


class _BreakingSFTPServer(asyncssh.SFTPServer):
    """Accepts the first write, then drops the connection: an upload interrupted halfway."""

    def __init__(self, chan: Any, root: str, state: Breaker) -> None:
        super().__init__(chan, chroot=os.fsencode(root))
        self.chan = chan
        self.state = state

    def write(self, file_obj: object, offset: int, data: bytes) -> object:
        self.state.writes += 1
        if self.state.writes > 1:
            self.state.mid_upload.set()
            if self.state.broken:
                self.chan.get_connection().abort()
        return super().write(file_obj, offset, data)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        if not self.state.posix_rename:  # a server without the posix-rename@openssh.com extension
            raise asyncssh.SFTPOpUnsupported("posix-rename not supported")
        super().posix_rename(oldpath, newpath)


class _Auth(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return password == "pw"


@pytest.fixture
async def breaking_server(tmp_path: Path) -> AsyncIterator[tuple[SftpConfig, Path, Breaker]]:
    root = tmp_path / "remote"
    root.mkdir()
    state = Breaker()
    server = await asyncssh.create_server(
        _Auth, "127.0.0.1", 0, server_host_keys=[asyncssh.generate_private_key("ssh-ed25519")],
        sftp_factory=lambda chan: _BreakingSFTPServer(chan, str(root), state),
    )
    config = SftpConfig(host="127.0.0.1", port=server.get_port(), username="u", password="pw",
                        root="/drop", attempts=2, backoff_seconds=0)
    try:
        yield config, root, state
    finally:
        server.close()
        await server.wait_closed()


def big_stock_file(folder: Path) -> LocalFile:
    path = folder / feed_file_name(Entity.variant_warehouses)
    rows = ({"VARIANT_ID": f"ITEM-{i:06d}", "WAREHOUSE_ID": "01", "IN_STOCK": i, "REMOVED": False,
             "UPDATED_AT": AT} for i in range(20_000))  # several 64 KiB chunks
    write_feed(path, Entity.variant_warehouses, rows)
    return LocalFile(path, Entity.variant_warehouses)


async def test_interrupted_upload_never_appears_under_its_final_name(
    breaking_server: tuple[SftpConfig, Path, Breaker], tmp_path: Path
) -> None:
    config, root, state = breaking_server
    file = big_stock_file(tmp_path)

    async def always_break(_: float) -> None:
        state.writes = 0  # the retry breaks again after its first chunk

    [result] = await SftpDelivery(config, sleep=always_break).deliver([file])
    assert not result.delivered and result.attempts == 2
    final = root / "drop" / "variant-warehouses" / file.path.name
    assert not final.exists()
    assert all(p.name.startswith(".") and p.name.endswith(".part") for p in root.rglob("*") if p.is_file())


async def test_upload_recovers_on_retry_and_creates_missing_folders(
    breaking_server: tuple[SftpConfig, Path, Breaker], tmp_path: Path
) -> None:
    config, root, state = breaking_server
    file = big_stock_file(tmp_path)

    async def heal(_: float) -> None:
        state.broken = False  # the network recovers before the retry

    [result] = await SftpDelivery(config, sleep=heal).deliver([file])
    assert result.delivered and result.attempts == 2
    final = root / "drop" / "variant-warehouses" / file.path.name
    assert final.read_bytes() == file.path.read_bytes()
    assert [p.name for p in final.parent.iterdir()] == [file.path.name]  # no .part left behind


async def test_delivery_is_cancellable_without_leaving_a_visible_file(
    breaking_server: tuple[SftpConfig, Path, Breaker], tmp_path: Path
) -> None:
    config, root, state = breaking_server
    state.broken = False
    file = big_stock_file(tmp_path)
    task = asyncio.create_task(SftpDelivery(config).deliver([file]))
    await state.mid_upload.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not (root / "drop" / "variant-warehouses" / file.path.name).exists()


async def test_plain_rename_is_used_when_posix_rename_is_unsupported(
    breaking_server: tuple[SftpConfig, Path, Breaker], tmp_path: Path
) -> None:
    config, root, state = breaking_server
    state.broken, state.posix_rename = False, False
    file = stock_file(tmp_path, 7)
    [result] = await SftpDelivery(config).deliver([file])
    assert result.delivered, result.error
    final = root / "drop" / "variant-warehouses" / file.path.name
    assert final.read_bytes() == file.path.read_bytes()


def test_files_are_sorted_into_dependency_order(tmp_path: Path) -> None:
    stock = LocalFile(tmp_path / "variant-warehouses_1.csv", Entity.variant_warehouses)
    older_stock = LocalFile(tmp_path / "variant-warehouses_0.csv", Entity.variant_warehouses)
    variants = LocalFile(tmp_path / "variants_9.csv", Entity.variants)
    assert in_delivery_order([stock, variants, older_stock]) == [variants, older_stock, stock]


async def test_key_authentication_against_the_emulator(tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_path = tmp_path / "id_ed25519"
    key.write_private_key(str(key_path))
    known_hosts = tmp_path / "known_hosts"
    emulator_config = IPEmulatorConfig(sftp_port=0, sftp_root=tmp_path / "drop", sftp_password=None,
                                       sftp_authorized_keys=[key.export_public_key().decode()],
                                       sftp_known_hosts_path=known_hosts)
    with serve(create_app(emulator_config)) as url:
        async with httpx.AsyncClient() as http:
            port = (await http.get(f"{url}/_emulator/sftp")).json()["port"]
        config = SftpConfig(host="127.0.0.1", port=port, username=emulator_config.sftp_username,
                            key_path=str(key_path), known_hosts=str(known_hosts), attempts=1)
        [result] = await SftpDelivery(config).deliver([stock_file(tmp_path, 5)])
    assert result.delivered, result.error

"""The Advanced CSV drop box: an asyncssh SFTP server on 127.0.0.1 (reference §2.2).

The host key is generated at start and published (`store.sftp_known_hosts_line`, and a
known_hosts file if configured) so clients verify it exactly as production must. Files still
open for writing are tracked so ingest never reads half an upload.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path
from typing import Any

import asyncssh

from app.emulators.inventory_planner.store import IPStore

BIND_HOST = "127.0.0.1"  # loopback only: the emulator is a test double, never a public service


class _SSHServer(asyncssh.SSHServer):
    def __init__(self, store: IPStore, client_keys: list[asyncssh.SSHKey]) -> None:
        self.config = store.config
        self.client_keys = {key.export_public_key() for key in client_keys}

    def begin_auth(self, username: str) -> bool:
        return True  # always require authentication

    def password_auth_supported(self) -> bool:
        return self.config.sftp_password is not None

    def validate_password(self, username: str, password: str) -> bool:
        expected = self.config.sftp_password or ""
        return username == self.config.sftp_username and hmac.compare_digest(password, expected)

    def public_key_auth_supported(self) -> bool:
        return bool(self.client_keys)

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username == self.config.sftp_username and key.export_public_key() in self.client_keys


class _SFTPServer(asyncssh.SFTPServer):
    def __init__(self, chan: Any, store: IPStore) -> None:
        super().__init__(chan, chroot=os.fsencode(os.path.realpath(store.sftp_root)))
        self.ingestor = store.ingestor
        self.uploads = store.ingestor.open_uploads
        self.writing: dict[Any, str] = {}

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        local = os.path.realpath(os.fsdecode(self.map_path(path)))
        writing = pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT)
        if writing and pflags & asyncssh.FXF_TRUNC:
            self.ingestor.note_overwrite(local)
        handle = super().open(path, pflags, attrs)
        if writing:
            self.writing[handle] = local
            self.uploads.add(local)
        return handle

    def close(self, file_obj: object) -> None:
        super().close(file_obj)
        local = self.writing.pop(file_obj, None)
        if local:
            self.uploads.discard(local)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        self.ingestor.note_overwrite(os.path.realpath(os.fsdecode(self.map_path(newpath))))
        super().posix_rename(oldpath, newpath)


def _known_hosts_line(port: int, key: asyncssh.SSHKey) -> str:
    public = key.export_public_key("openssh").decode().split()
    host = BIND_HOST if port == 22 else f"[{BIND_HOST}]:{port}"
    return f"{host} {public[0]} {public[1]}"


async def start(store: IPStore) -> asyncssh.SSHAcceptor:
    config = store.config
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_keys = [asyncssh.import_public_key(line) for line in config.sftp_authorized_keys]
    acceptor = await asyncssh.create_server(
        lambda: _SSHServer(store, client_keys),
        BIND_HOST,
        config.sftp_port or 0,
        server_host_keys=[host_key],
        sftp_factory=lambda chan: _SFTPServer(chan, store),
        allow_scp=False,
    )
    store.sftp_port = acceptor.get_port()
    store.sftp_host_public_key = host_key.export_public_key("openssh").decode().strip()
    store.sftp_known_hosts_line = _known_hosts_line(store.sftp_port, host_key)
    if config.sftp_known_hosts_path:
        _write_known_hosts(Path(config.sftp_known_hosts_path), store.sftp_known_hosts_line)
    return acceptor


def _write_known_hosts(path: Path, line: str) -> None:
    path.write_text(line + "\n")

"""Advanced CSV delivery over SFTP (reference §2.2).

Each file is validated again right before upload (IP skips a bad file without a word), uploaded
under a hidden temporary name in its entity folder and renamed into place, so IP's poller can
never pick up a half-written file. Files go in the order given and delivery stops at the first
failure: a later file (say variant-warehouses) must not land before an earlier one it depends on
(variants), and IP processes files oldest first.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncssh
from opentelemetry import trace

from app.config import InventoryPlannerSettings
from app.integrations.inventory_planner.csv_specs import DELIVERY_ORDER, Entity
from app.integrations.inventory_planner.errors import FeedValidationError
from app.integrations.inventory_planner.feeds import validate_file
from app.kit.time import utcnow

log = logging.getLogger("b1bridge.ip.sftp")
tracer = trace.get_tracer("b1bridge.integrations.inventory_planner")

CHUNK = 64 * 1024
# Worth a reconnect: the network or the session went away (also mid-transfer, as SFTPConnectionLost).
_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncssh.ConnectionLost, asyncssh.SFTPConnectionLost,
    asyncssh.SFTPNoConnection, asyncssh.ChannelOpenError,
)
# Not worth one: wrong credentials or host key, permission denied, disk full.
_PERMANENT: tuple[type[BaseException], ...] = (asyncssh.PermissionDenied, asyncssh.HostKeyNotVerifiable)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _PERMANENT):
        return False
    return isinstance(exc, (*_TRANSIENT, asyncssh.DisconnectError))


@dataclass(frozen=True)
class SftpConfig:
    host: str
    port: int
    username: str
    password: str | None = None
    key_path: str | None = None
    known_hosts: str | None = None  # None disables host key checks: Settings refuses it in production
    root: str = "/"
    connect_timeout: float = 15.0
    attempts: int = 3
    backoff_seconds: float = 1.0

    @classmethod
    def from_settings(cls, ip: InventoryPlannerSettings, **overrides: Any) -> SftpConfig:
        values: dict[str, Any] = {
            "host": ip.sftp_host, "port": ip.sftp_port, "username": ip.sftp_username,
            "password": ip.sftp_password.get_secret_value() if ip.sftp_password else None,
            "key_path": ip.sftp_key_path, "known_hosts": ip.sftp_known_hosts, "root": ip.sftp_root,
        }
        return cls(**{**values, **overrides})

    def __repr__(self) -> str:  # never print the password
        return (f"SftpConfig(host={self.host!r}, port={self.port}, username={self.username!r}, "
                f"root={self.root!r})")


@dataclass(frozen=True)
class LocalFile:
    """A finished feed file waiting for delivery; `name` defaults to the local file name."""

    path: Path
    entity: Entity
    name: str | None = None

    @property
    def remote_name(self) -> str:
        return self.name or self.path.name


@dataclass
class DeliveryResult:
    file: LocalFile
    remote_path: str | None = None
    sha256: str | None = None
    rows: int | None = None
    size: int | None = None
    attempted: bool = False
    delivered_at: datetime | None = None
    error: str | None = None
    attempts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None


def in_delivery_order(files: Sequence[LocalFile]) -> list[LocalFile]:
    """Dependency order (§2.2: warehouses and variants before stock), then oldest name first."""
    return sorted(files, key=lambda f: (DELIVERY_ORDER.index(f.entity), f.remote_name))


def remote_folder(root: str, entity: Entity) -> str:
    return posixpath.join(root or "/", entity.value)


def part_name(remote_path: str) -> str:
    """`.name.part` in the same folder: hidden, and not `*.csv`, so IP ignores it until the rename."""
    folder, name = posixpath.split(remote_path)
    return posixpath.join(folder, f".{name}.part")


class SftpDelivery:
    """Delivers feed files to IP's SFTP drop folders; one connection per `deliver()` call."""

    def __init__(
        self, config: SftpConfig, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._rng = rng

    async def deliver(self, files: Sequence[LocalFile]) -> list[DeliveryResult]:
        """Deliver in order; stop at the first failure (later files stay queued, `attempted=False`)."""
        results = [DeliveryResult(file) for file in files]
        with tracer.start_as_current_span("ip sftp deliver") as span:
            span.set_attribute("ip.sftp.files", len(files))
            for result in results:
                if not await self._prepare(result):
                    break
                await self._deliver_one(result)
                if not result.delivered:
                    break
            span.set_attribute("ip.sftp.delivered", sum(r.delivered for r in results))
        return results

    async def _prepare(self, result: DeliveryResult) -> bool:
        """The last gate before IP: the validator re-reads the exact bytes we are about to send."""
        result.attempted = True
        try:
            report = await asyncio.to_thread(validate_file, result.file.path, result.file.entity)
        except OSError as exc:
            result.error = f"cannot read local file: {exc}"
            return False
        result.sha256, result.rows, result.size = report.sha256, report.rows, report.size
        if not report.ok:
            result.problems = report.problems
            shown = "; ".join(report.problems[:3])
            result.error = str(FeedValidationError(f"refused before upload: {shown}"))
            log.error("ip.sftp.refused_invalid", extra={"file": result.file.remote_name,
                                                         "problems": report.problems[:5]})
            return False
        return True

    async def _deliver_one(self, result: DeliveryResult) -> None:
        result.remote_path = posixpath.join(remote_folder(self.config.root, result.file.entity),
                                            result.file.remote_name)
        for attempt in range(1, self.config.attempts + 1):
            result.attempts = attempt
            try:
                await self._upload(result.file.path, result.remote_path)
            except (TimeoutError, OSError, asyncssh.Error) as exc:
                result.error = f"{type(exc).__name__}: {exc}"
                if not is_transient(exc) or attempt == self.config.attempts:
                    break
                await self._sleep(self._backoff(attempt))
                continue
            result.error = None
            result.delivered_at = utcnow()
            log.info("ip.sftp.delivered", extra={"remote_path": result.remote_path, "rows": result.rows,
                                                 "sha256": result.sha256})
            return
        log.error("ip.sftp.failed", extra={"remote_path": result.remote_path, "error": result.error})

    def _backoff(self, attempt: int) -> float:
        return self.config.backoff_seconds * 2 ** (attempt - 1) * (0.5 + self._rng())

    def _connect_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "host": self.config.host, "port": self.config.port, "username": self.config.username,
            "known_hosts": self.config.known_hosts, "connect_timeout": self.config.connect_timeout,
            "agent_path": None,  # only the configured credentials, never a developer's ssh-agent
        }
        if self.config.password is not None:
            options["password"] = self.config.password
        options["client_keys"] = [self.config.key_path] if self.config.key_path else None
        return options

    async def _upload(self, local: Path, remote_path: str) -> None:
        with tracer.start_as_current_span("ip sftp upload") as span:
            span.set_attribute("ip.sftp.remote_path", remote_path)
            async with asyncssh.connect(**self._connect_options()) as conn, conn.start_sftp_client() as sftp:
                await sftp.makedirs(posixpath.dirname(remote_path), exist_ok=True)
                await upload_atomically(sftp, local, remote_path)


async def deliver(config: SftpConfig, files: Sequence[LocalFile]) -> list[DeliveryResult]:
    """Convenience for `SftpDelivery(config).deliver(files)`."""
    return await SftpDelivery(config).deliver(files)


async def upload_atomically(sftp: asyncssh.SFTPClient, local: Path, remote_path: str) -> None:
    """Write `.name.part`, then rename over the final name; on failure remove the part file."""
    tmp = part_name(remote_path)
    try:
        source = await asyncio.to_thread(local.open, "rb")
        try:
            async with sftp.open(tmp, "wb") as remote:
                while chunk := await asyncio.to_thread(source.read, CHUNK):
                    await remote.write(chunk)
        finally:
            source.close()
        await _rename(sftp, tmp, remote_path)
    except BaseException:
        await _discard(sftp, tmp)
        raise


async def _rename(sftp: asyncssh.SFTPClient, tmp: str, final: str) -> None:
    # posix-rename@openssh.com replaces atomically; plain SFTPv3 rename fails if the target exists,
    # which our unique names make rare (a retry after a lost reply is the one case).
    try:
        await sftp.posix_rename(tmp, final)
    except asyncssh.SFTPOpUnsupported:
        if await sftp.exists(final):
            await sftp.remove(final)
        await sftp.rename(tmp, final)


async def _discard(sftp: asyncssh.SFTPClient, tmp: str) -> None:
    try:
        await asyncio.wait_for(sftp.remove(tmp), timeout=5)
    except (TimeoutError, asyncssh.Error, OSError):
        pass  # the connection may be gone; a stale .part file is invisible to IP anyway

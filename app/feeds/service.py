"""Feeds to IP: the delivery log (Advanced CSV over SFTP) and the Starter hosted snapshot.

Delivery is strictly ordered and never drops a file: the queue is read oldest first, the uploader
stops at the first failure, and a file leaves the queue only once IP's SFTP has it. Starter files
are complete snapshots; publishing one is a pointer swap in the database after the new file is
written and validated, so IP can never fetch a partial or failed build.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit import service as audit_service
from app.config import Settings
from app.db.session import session_scope
from app.errors import Conflict, NotFound
from app.exceptions import service as exception_service
from app.feeds import repository
from app.integrations.inventory_planner import feeds as ip_feeds
from app.integrations.inventory_planner import sftp
from app.integrations.inventory_planner.csv_specs import DELIVERY_ORDER, STARTER_PRODUCTS, Entity
from app.integrations.inventory_planner.errors import FeedValidationError
from app.kit import redis as redis_kit
from app.kit.locker import LockTimeout, RedisLock
from app.kit.time import utcnow
from app.models.feeds import DeliveryStatus, FeedDelivery, StarterConnector, StarterSnapshot
from app.outbox import service as outbox
from app.runtime import Runtime

logger = logging.getLogger("b1bridge.feeds")
JOB_DELIVER = "feeds.deliver"
JOB_STARTER = "feeds.starter"
SOURCE = "feeds"
FEED = {"feed": "advanced"}
STARTER_OPTIONAL = ("cost_price", "barcode")
PAGE = 1000


def feed_root(settings: Settings) -> Path:
    return settings.sync.feed_dir or settings.data_dir / "feeds"


# --- the delivery log -------------------------------------------------------------------------------


async def queue_files(
    session: AsyncSession, files: Sequence[ip_feeds.FeedFile], *, run_id: str | None, now: datetime
) -> list[FeedDelivery]:
    order = {e.value: i for i, e in enumerate(DELIVERY_ORDER)}
    rows = []
    for f in files:
        row = FeedDelivery(
            entity=f.entity,
            file_name=f.path.name,
            local_path=str(f.path),
            rows=f.rows,
            sha256=f.sha256,
            size=f.size,
            run_id=run_id,
            ordinal=order.get(f.entity, 99),
            created_at=now,
        )
        await repository.add(session, row)
        rows.append(row)
    return rows


async def request_delivery(session: AsyncSession, run_id: str) -> None:
    await outbox.enqueue(session, JOB_DELIVER, job_id=f"feeds:deliver:{run_id}")


async def request_starter_build(session: AsyncSession, run_id: str) -> None:
    await outbox.enqueue(session, JOB_STARTER, job_id=f"feeds:starter:{run_id}", run_id=run_id)


async def deliver_queued(runtime: Runtime, config: sftp.SftpConfig | None = None) -> dict[str, int]:
    """Upload every queued file in order (single flight across workers); what failed stays queued."""
    lock = RedisLock(
        runtime.redis,
        redis_kit.key(runtime.settings, "lock", "feeds", "deliver"),
        lease_seconds=60,
        wait_timeout=0,
    )
    try:
        await lock.acquire()
    except LockTimeout:
        return {"delivered": 0, "queued": -1}
    try:
        return await _deliver(runtime, config or sftp.SftpConfig.from_settings(runtime.settings.ip))
    finally:
        await lock.release()


async def _deliver(runtime: Runtime, config: sftp.SftpConfig) -> dict[str, int]:
    async with session_scope(runtime.sessionmaker) as session:
        batch = [(d.id, Path(d.local_path), d.entity, d.file_name) for d in await repository.queued(session)]
    results = (
        await sftp.deliver(config, [sftp.LocalFile(p, Entity(e), n) for _, p, e, n in batch]) if batch else []
    )
    async with session_scope(runtime.sessionmaker) as session:
        delivered = await _record(session, [b[0] for b in batch], results)
        left = await repository.count(session, status=DeliveryStatus.queued)
        failure = next((r for r in results if r.attempted and not r.delivered), None)
        await _report(session, failure, left)
    return {"delivered": delivered, "queued": left}


async def _record(session: AsyncSession, ids: list[str], results: list[sftp.DeliveryResult]) -> int:
    delivered = 0
    for delivery_id, result in zip(ids, results, strict=False):
        row = await session.get(FeedDelivery, delivery_id)
        if row is None or not result.attempted:
            continue
        row.attempts += max(1, result.attempts)
        if result.delivered:
            row.status, row.delivered_at, row.last_error = DeliveryStatus.delivered, result.delivered_at, None
            delivered += 1
        else:
            row.last_error = (result.error or "not delivered")[:2000]
    return delivered


async def _report(session: AsyncSession, failure: sftp.DeliveryResult | None, left: int) -> None:
    if failure is None:
        await exception_service.clear(session, "FEED_DELIVERY_FAILED", FEED)
        return
    await exception_service.raise_exception(
        session,
        "FEED_DELIVERY_FAILED",
        FEED,
        source=SOURCE,
        evidence={
            "file": failure.file.remote_name,
            "error": failure.error,
            "queued_files": left,
            "problems": failure.problems[:10],
        },
    )


async def deliveries(session: AsyncSession, limit: int = 100) -> list[FeedDelivery]:
    return await repository.recent(session, limit)


# --- Starter snapshots ------------------------------------------------------------------------------


async def build_starter(
    runtime: Runtime, warehouses: Sequence[str] | None = None, run_id: str | None = None
) -> dict[str, str]:
    """Rebuild the products file of every mapped IP warehouse; returns warehouse -> outcome."""
    from app.mappings import service as mapping_service
    from app.sync.rules import local_warehouse_id

    async with session_scope(runtime.sessionmaker) as session:
        mapped = warehouses or sorted(
            {
                local_warehouse_id(m.ip_warehouse_id)
                for m in (await mapping_service.warehouse_map(session)).values()
            }
        )
    outcome = {}
    for wh in mapped:
        try:
            outcome[wh] = await _build_one(runtime, wh, run_id)
        except (FeedValidationError, OSError) as exc:
            logger.warning("feeds.starter.build_failed", extra={"ip_warehouse": wh, "error": str(exc)})
            outcome[wh] = f"kept previous: {exc}"
    return outcome


async def _build_one(runtime: Runtime, wh: str, run_id: str | None) -> str:
    folder = ip_feeds.starter_path(feed_root(runtime.settings) / "starter", wh).parent
    path = folder / f"products-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.csv"
    writer = _StarterWriter(path)
    try:
        async with session_scope(runtime.sessionmaker) as session:
            after = ""
            while page := await repository.starter_rows(session, wh, after, PAGE):
                writer.add_page(page)
                after = page[-1][0].sku
        built = writer.finish()
    except BaseException:
        writer.discard()
        raise
    return await _publish(runtime, wh, built, run_id)


async def _publish(runtime: Runtime, wh: str, built: ip_feeds.FeedFile, run_id: str | None) -> str:
    async with session_scope(runtime.sessionmaker) as session:
        current = await repository.snapshot(session, wh)
        old = Path(current.path) if current else None
        if current is None:
            current = StarterSnapshot(ip_warehouse_id=wh, path="", sha256="")
            session.add(current)
        current.path, current.rows, current.sha256 = str(built.path), built.rows, built.sha256
        current.size, current.built_at, current.run_id = built.size, utcnow(), run_id
    if old is not None and old != built.path:
        old.unlink(missing_ok=True)  # after the swap committed: a reader of the old row may 404 once
    return f"published {built.rows} rows"


class _StarterWriter:
    """Streams Starter rows into a hidden temp file; `finish` validates and refuses an empty file."""

    def __init__(self, path: Path) -> None:
        import csv

        self.path = path
        self.header = STARTER_PRODUCTS.header(STARTER_OPTIONAL)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = path.with_name(f".{path.name}.tmp")
        self._raw = open(self.tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._csv = csv.writer(self._raw, lineterminator=ip_feeds.LINE_TERMINATOR)
        self._csv.writerow(self.header)
        self.rows = 0

    def add_page(self, page: list[Any]) -> None:
        for stock, item in page:
            self.rows += 1
            row = {
                "product_id": item.sku,
                "title": item.name or item.sku,
                "price": None,
                "SKU": item.sku,
                "created_at": _created(item.sap_created),
                "stock_quantity": stock.sap_available,
                "cost_price": item.avg_price,
                "barcode": item.barcode,
            }
            self._csv.writerow(ip_feeds.format_row(STARTER_PRODUCTS, self.header, row, self.rows))

    def finish(self) -> ip_feeds.FeedFile:
        self._raw.close()
        if not self.rows:
            raise FeedValidationError(
                "refusing to publish an empty Starter snapshot: IP would delete "
                "every product of the connector"
            )
        ip_feeds.validate_file(self.tmp, "starter").raise_for_errors()
        self.tmp.replace(self.path)
        report = ip_feeds.validate_file(self.path, "starter")
        return ip_feeds.FeedFile(self.path, "starter", report.rows, report.sha256, report.size)

    def discard(self) -> None:
        if not self._raw.closed:
            self._raw.close()
        self.tmp.unlink(missing_ok=True)


def _created(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else utcnow().date()
    except ValueError:
        return utcnow().date()


async def served_file(session: AsyncSession, connector: StarterConnector) -> ip_feeds.StarterFile | None:
    snap = await repository.snapshot(session, connector.ip_warehouse_id)
    if snap is None or not Path(snap.path).is_file():  # noqa: ASYNC240  (a stat on local disk)
        return None
    return ip_feeds.StarterFile(
        Path(snap.path), snap.rows, snap.sha256, snap.size, snap.built_at.replace(microsecond=0)
    )


# --- connectors (admin) -----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """scrypt, salted: unlike API keys these are chosen by people and may be guessable."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


async def authenticate(
    session: AsyncSession, name: str, username: str, password: str
) -> StarterConnector | None:
    connector = await repository.connector(session, name)
    if connector is None or not connector.active:
        check_password(password, hash_password("timing"))  # same work whether or not it exists
        return None
    user_ok = hmac.compare_digest(username.encode(), connector.username.encode())
    return connector if check_password(password, connector.password_hash) and user_ok else None


def _state(c: StarterConnector) -> dict[str, Any]:
    return {"name": c.name, "ip_warehouse_id": c.ip_warehouse_id, "username": c.username, "active": c.active}


async def create_connector(
    session: AsyncSession, *, name: str, ip_warehouse_id: str, username: str, password: str, actor: str
) -> StarterConnector:
    if await repository.connector(session, name) is not None:
        raise Conflict(f"Starter connector {name!r} exists already.")
    ip_feeds.starter_path(Path("/"), ip_warehouse_id)  # refuses ids unsafe as a folder name
    row = StarterConnector(
        name=name, ip_warehouse_id=ip_warehouse_id, username=username, password_hash=hash_password(password)
    )
    await repository.add(session, row)
    await audit_service.record(
        session,
        actor=actor,
        action="starter_connector.created",
        entity_type="starter_connector",
        entity_id=row.id,
        after=_state(row),
    )
    return row


async def get_connector(session: AsyncSession, name: str) -> StarterConnector:
    row = await repository.connector(session, name)
    if row is None:
        raise NotFound(f"No Starter connector named {name!r}.")
    return row


async def update_connector(
    session: AsyncSession, name: str, changes: dict[str, Any], *, actor: str
) -> StarterConnector:
    row = await get_connector(session, name)
    before = _state(row)
    if (password := changes.pop("password", None)) is not None:
        row.password_hash = hash_password(password)
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    await session.flush()
    await audit_service.record(
        session,
        actor=actor,
        action="starter_connector.updated",
        entity_type="starter_connector",
        entity_id=row.id,
        before=before,
        after=_state(row),
        note="password changed" if password else None,
    )
    return row


async def delete_connector(session: AsyncSession, name: str, *, actor: str) -> None:
    row = await get_connector(session, name)
    await audit_service.record(
        session,
        actor=actor,
        action="starter_connector.deleted",
        entity_type="starter_connector",
        entity_id=row.id,
        before=_state(row),
    )
    await session.delete(row)
    await session.flush()

"""The bulk upsert on the real database: chunks of multi-row VALUES, column defaults, updates,
and a key given twice in one batch."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.db.session import session_scope
from app.kit.time import utcnow
from app.models.sync import GrpoLine, IpStock
from app.sync import repository


async def test_rows_over_several_chunks_are_inserted_then_updated(app: Any, clean: None) -> None:
    sessions, now = app.state.runtime.sessionmaker, utcnow()
    count = repository.CHUNK_ROWS * 2 + 7

    def rows(value: float) -> list[dict[str, Any]]:
        return [
            {
                "sku": f"S{i:05d}",
                "ip_warehouse_id": "01",
                "sap_available": value + i,
                "live": True,
                "changed_at": now,
            }
            for i in range(count)
        ]

    async with session_scope(sessions) as session:
        await repository.upsert(session, IpStock, rows(1.0), ["sku", "ip_warehouse_id"])
    async with session_scope(sessions) as session:
        await repository.upsert(session, IpStock, rows(100.0)[: count - 3], ["sku", "ip_warehouse_id"])
    async with session_scope(sessions) as session:
        stored = {r.sku: r for r in (await session.exec(select(IpStock))).all()}
    assert len(stored) == count
    assert all(not r.sent_removed and not r.pending_removed for r in stored.values())  # column defaults
    assert stored["S00000"].sap_available == 100.0 and stored[f"S{count - 1:05d}"].sap_available == count
    assert stored[f"S{count - 4:05d}"].sap_available == 100.0 + count - 4


async def test_a_key_given_twice_keeps_its_last_row(app: Any, clean: None) -> None:
    now = utcnow()
    line = {"doc_entry": 1, "line_num": 0, "base_entry": 9, "base_line": 0, "quantity": 1.0, "seen_at": now}
    async with session_scope(app.state.runtime.sessionmaker) as session:
        await repository.upsert(
            session, GrpoLine, [line, {**line, "quantity": 2.0}], ["doc_entry", "line_num"]
        )
    async with session_scope(app.state.runtime.sessionmaker) as session:
        stored = (await session.exec(select(GrpoLine))).all()
    assert [r.quantity for r in stored] == [2.0]

# ruff: noqa: ASYNC210  (the servers run in their own threads: a blocking call cannot stall them)
"""POST /stock/adjustments through the pipeline: receipts/issues, period policy, failures, retries."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app.db.session import session_scope
from app.models.audit import AuditEntry
from app.models.exception import BusinessException
from app.models.writeback import SapWrite
from app.writeback import pipeline
from tests.writeback.harness import Stack, api_key, stack

pytestmark = pytest.mark.asyncio


def _stocked_item(s: Stack, warehouse: str = "01") -> str:
    """An item with stock to issue: receipts and issues of one request may post in either order."""
    for code in s.buyable_items(200):
        row = s.sap_store.warehouse_row(s.sap_store.item(code), warehouse)
        if row and row["InStock"] >= 5:
            return code
    raise AssertionError("no stocked item")


def _body(s: Stack, *, qty: float = 3, warehouse: str = "01", day: date | None = None) -> dict[str, Any]:
    sku = _stocked_item(s)
    return {
        "reason": "cycle count",
        "effective_date": (day or date.today()).isoformat(),
        "lines": [{"sku": sku, "warehouse": warehouse, "quantity": qty}],
    }


def _post(s: Stack, headers: dict[str, str], body: dict[str, Any], key: str | None = "k1") -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return httpx.post(f"{s.api_url}/stock/adjustments", json=body, headers={**headers, **extra})


def _show(s: Stack, headers: dict[str, str], adjustment_id: str) -> dict[str, Any]:
    response = httpx.get(f"{s.api_url}/stock/adjustments/{adjustment_id}", headers=headers)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


async def _exceptions(s: Stack, kind: str) -> list[BusinessException]:
    async with session_scope(s.runtime.sessionmaker) as session:
        return list(
            (await session.exec(select(BusinessException).where(BusinessException.type == kind))).all()
        )


def _locked_day() -> date:
    today = date.today().replace(day=15)
    month = (today.year * 12 + today.month - 1) - 3  # the emulator locks the period 3 months back
    return date(month // 12, month % 12 + 1, 15)


async def test_positive_is_a_goods_receipt_negative_a_goods_issue(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        headers = await api_key(s.runtime)
        body = _body(s)
        body["lines"].append({**body["lines"][0], "quantity": -1})
        response = _post(s, headers, body)
        assert response.status_code == 202
        await s.drain()
        shown = _show(s, headers, response.json()["id"])
        assert shown["status"] == "posted"
        assert sorted(w["entity"] for w in shown["writes"]) == ["InventoryGenEntries", "InventoryGenExits"]
        assert "StockTransfers" not in s.sap_stats()["documents_created"]
        async with session_scope(s.runtime.sessionmaker) as session:
            audit = (await session.exec(select(AuditEntry).where(AuditEntry.entity_id == shown["id"]))).all()
        posted = [a for a in audit if a.action == "sap.document_create"]
        assert len(posted) == 2 and all(a.after and a.after["idempotency_key"] == "k1" for a in posted)


async def test_idempotency_key_rules(tmp_path: Path, database_url: str | None) -> None:
    async with stack(tmp_path, database_url) as s:
        headers = await api_key(s.runtime)
        body = _body(s)
        assert _post(s, headers, body, key=None).status_code == 400
        first = _post(s, headers, body)
        again = _post(s, headers, body)
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert _post(s, headers, {**body, "reason": "other"}).status_code == 422
        zero = {**body, "lines": [{**body["lines"][0], "quantity": 0}]}
        assert _post(s, headers, zero, key="k2").status_code == 422


async def test_locked_period_is_held_for_finance_under_review(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url, locked_period_policy="review") as s:
        headers = await api_key(s.runtime)
        response = _post(s, headers, _body(s, day=_locked_day()))
        await s.drain()
        assert _show(s, headers, response.json()["id"])["status"] == "held"
        assert s.sap_stats()["documents_created"] == {}
        (locked,) = await _exceptions(s, "LOCKED_PERIOD")
        assert locked.owner == "finance"
        # Finance decides to post it in the open period after all: retry with that policy.
        retried = httpx.post(
            f"{s.api_url}/exceptions/{locked.id}/retry",
            headers=headers,
            json={"corrections": {"policy": "post_in_open_period"}},
        )
        assert retried.status_code == 200, retried.text
        await s.drain()
        assert _show(s, headers, response.json()["id"])["status"] == "posted"


async def test_locked_period_is_redated_under_post_in_open_period(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url, locked_period_policy="post_in_open_period") as s:
        headers = await api_key(s.runtime)
        day = _locked_day()
        response = _post(s, headers, _body(s, day=day))
        await s.drain()
        (write,) = _show(s, headers, response.json()["id"])["writes"]
        assert write["status"] == "posted" and date.fromisoformat(write["posted_date"]) > day
        doc = s.sap_store.tables["InventoryGenEntries"].rows[write["doc_entry"]]
        assert day.isoformat() in doc["Comments"] and doc["DocDate"] > day.isoformat()


async def test_business_error_is_post_failed_and_a_corrected_retry_posts(
    tmp_path: Path, database_url: str | None
) -> None:
    async with stack(tmp_path, database_url) as s:
        headers = await api_key(s.runtime)
        response = _post(s, headers, _body(s, warehouse="ZZ"), key=str(uuid.uuid4()))  # no such warehouse
        await s.drain()
        assert _show(s, headers, response.json()["id"])["status"] == "failed"
        (failed,) = await _exceptions(s, "POST_FAILED")
        assert failed.evidence["sap_code"] is not None and failed.evidence["payload"]["DocumentLines"]
        retried = httpx.post(
            f"{s.api_url}/exceptions/{failed.id}/retry",
            headers=headers,
            json={"corrections": {"lines": [{"line_no": 1, "warehouse_code": "01"}]}},
        )
        assert retried.status_code == 200, retried.text
        await s.drain()
        assert _show(s, headers, response.json()["id"])["status"] == "posted"
        assert (await _exceptions(s, "POST_FAILED"))[0].status == "resolved"


async def test_a_blackout_window_defers_the_write(tmp_path: Path, database_url: str | None) -> None:
    async with stack(tmp_path, database_url) as s:
        now = date.today()
        s.settings.sap.write_blackout = f"{now.strftime('%a')} 00:00-23:59"
        headers = await api_key(s.runtime)
        _post(s, headers, _body(s))
        async with session_scope(s.runtime.sessionmaker) as session:
            (write,) = (await session.exec(select(SapWrite))).all()
        assert await pipeline.run(s.runtime, write.id) == "deferred"
        assert s.sap_stats()["documents_created"] == {}

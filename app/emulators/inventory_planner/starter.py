"""Starter CSV fetch (reference §2.1): HEAD, then GET of each connector's products file.

Each connector feeds one warehouse with a full snapshot, so a product missing from the file is
deleted. Any failure (auth, 5xx, network, bad columns) changes nothing for that warehouse.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx

from app.emulators.inventory_planner import dates, specs
from app.emulators.inventory_planner.config import StarterConnector

USER_AGENT = "InventoryPlanner-Emulator/1.0 (starter-csv)"


class FetchError(Exception):
    pass


@dataclass
class Product:
    product_id: str
    sku: str
    title: str
    price: float
    stock_quantity: float
    barcode: str
    created_at: float | None
    updated_at: float | None


async def download(connector: StarterConnector, seconds: float = 10.0) -> str:
    auth = httpx.BasicAuth(connector.username, connector.password or "") if connector.username else None
    async with httpx.AsyncClient(auth=auth, timeout=seconds, headers={"User-Agent": USER_AGENT}) as client:
        try:
            head = await client.head(connector.url)
            _check(head, "HEAD")
            response = await client.get(connector.url)
            _check(response, "GET")
        except httpx.HTTPError as exc:
            raise FetchError(f"network error: {type(exc).__name__}: {exc}")
    return response.text


def _check(response: httpx.Response, method: str) -> None:
    if response.status_code != 200:
        raise FetchError(f"{method} answered {response.status_code}")


def parse_products(text: str) -> list[Product]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in specs.STARTER_PRODUCTS.required if c not in header]
    if missing:
        raise FetchError("missing required column(s): " + ", ".join(missing))
    products = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        products.append(_product(row, number))
    return products


def _product(row: dict[str, Any], number: int) -> Product:
    try:
        return Product(
            product_id=row["product_id"],
            sku=row["sku"],
            title=row["title"],
            price=float(row["price"] or 0),
            stock_quantity=float(row["stock_quantity"] or 0),
            barcode=row.get("barcode", ""),
            created_at=dates.parse_any(row["created_at"]) if row["created_at"] else None,
            updated_at=dates.parse_any(row["updated_at"]) if row.get("updated_at") else None,
        )
    except ValueError as exc:
        # A whole-file rejection is the safe reading: applying a partial snapshot would delete rows.
        raise FetchError(f"line {number}: {exc}")

"""A Starter CSV snapshot built by b1bridge, fetched by the emulated IP (reference §2.1).

The tiny file server here stands in for the service lead's future route: it serves whatever
`current_starter_file` says with the builder's ETag/Last-Modified, exactly as the route will.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import FastAPI, Request, Response

from app.integrations.inventory_planner.client import InventoryPlannerClient
from app.integrations.inventory_planner.feeds import (
    build_starter_products,
    current_starter_file,
    starter_path,
)
from tests.integrations.inventory_planner.conftest import Emulator
from tests.support.server import serve

WAREHOUSE = "c123_csv.starter-01"


def feed_app(root: Path) -> FastAPI:
    app = FastAPI()

    @app.api_route("/feeds/{connector}/products.csv", methods=["GET", "HEAD"])
    def products(connector: str, request: Request) -> Response:
        current = current_starter_file(starter_path(root, connector))
        if current is None:
            return Response(status_code=404)
        headers = {"ETag": current.etag, "Last-Modified": current.last_modified_http}
        conditional = request.headers.get("if-none-match"), request.headers.get("if-modified-since")
        if current.not_modified(*conditional):
            return Response(status_code=304, headers=headers)
        return Response(current.path.read_bytes(), media_type="text/csv", headers=headers)

    return app


def product(sku: str, qty: float) -> dict[str, object]:
    return {"product_id": sku, "title": f"Item {sku}", "price": 10, "SKU": sku,
            "created_at": date(2026, 1, 2), "stock_quantity": qty}


async def stock(ip: InventoryPlannerClient, sku: str) -> object:
    variant = next(v for v in (await ip.list_variants()).good if v.sku == sku)
    return next((b.in_stock for b in variant.warehouse if b.warehouse == WAREHOUSE), None)


async def test_ip_fetches_the_snapshot_and_a_failed_rebuild_changes_nothing(
    emulator: Emulator, ip: InventoryPlannerClient, tmp_path: Path
) -> None:
    path = starter_path(tmp_path, "wh1")
    build_starter_products(path, [product("A00001", 4), product("A00002", 6)])
    with serve(feed_app(tmp_path)) as feeds:
        emulator.control("POST", "/starter/connectors", {"connectors": [
            {"warehouse": WAREHOUSE, "url": f"{feeds}/feeds/wh1/products.csv"}]})
        first = emulator.control("POST", "/starter/fetch")
        assert first["connectors"][0]["ok"], first
        assert await stock(ip, "A00001") == 4

        def broken_export() -> object:
            yield product("A00001", 5)
            raise ConnectionError("SAP dropped the session mid-export")

        try:
            build_starter_products(path, broken_export())  # type: ignore[arg-type]
        except ConnectionError:
            pass
        again = emulator.control("POST", "/starter/fetch")
    assert again["connectors"][0] == {**again["connectors"][0], "ok": True, "products": 2, "deleted": 0}
    assert await stock(ip, "A00002") == 6  # the half-built snapshot never replaced the served one

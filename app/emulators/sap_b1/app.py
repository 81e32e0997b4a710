"""`create_app`: the emulator as a real ASGI app, its store on `app.state.sap`."""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI, Request
from starlette.responses import JSONResponse, Response

from app.emulators.sap_b1 import service
from app.emulators.sap_b1.config import EmulatorConfig, FaultConfig
from app.emulators.sap_b1.errors import SLError, render_error
from app.emulators.sap_b1.store import SapStore

_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def create_app(config: EmulatorConfig | None = None) -> FastAPI:
    config = config or EmulatorConfig()
    app = FastAPI(title="SAP B1 Service Layer emulator", docs_url=None, redoc_url=None, openapi_url=None)
    store = SapStore(config)
    app.state.sap = store

    async def service_layer(request: Request, version: str, path: str) -> Response:
        return await service.handle(store, request, version, path)

    app.add_api_route("/b1s/{version}/{path:path}", service_layer, methods=_METHODS)
    _add_emulator_routes(app, store)
    return app


def _add_emulator_routes(app: FastAPI, store: SapStore) -> None:
    """Test-only helpers: never part of the Service Layer surface."""

    @app.get("/_emulator/stats")
    def stats() -> dict[str, Any]:
        return store.stats_snapshot()

    @app.get("/_emulator/faults")
    def get_faults() -> dict[str, Any]:
        return store.faults.model_dump()

    @app.post("/_emulator/faults")
    def set_faults(body: dict[str, Any] = Body(default_factory=dict)) -> dict[str, Any]:
        """Merge the given knobs into the current ones (`{"reset": true, …}` starts from zero)."""
        base = {} if body.pop("reset", False) else store.faults.model_dump()
        store.set_faults(FaultConfig.model_validate({**base, **body}))
        return store.faults.model_dump()

    @app.post("/_emulator/reset")
    def reset() -> dict[str, Any]:
        store.reset()
        return {"ok": True}

    @app.post("/_emulator/restart")
    def restart() -> dict[str, Any]:
        store.restart()
        return {"ok": True}

    @app.post("/_emulator/sessions/expire")
    def expire_sessions() -> dict[str, Any]:
        store.expire_sessions()
        return {"ok": True}

    @app.post("/_emulator/stock")
    def set_stock(body: dict[str, Any] = Body(...)) -> Response:
        """{"ItemCode", "WarehouseCode", "InStock"?, "Committed"?, "Ordered"?}"""
        return _guard(
            lambda: store.set_stock(
                body["ItemCode"],
                body["WarehouseCode"],
                in_stock=body.get("InStock"),
                committed=body.get("Committed"),
                ordered=body.get("Ordered"),
            )
        )

    @app.post("/_emulator/items")
    def insert_item(body: dict[str, Any] = Body(...)) -> Response:
        fields = {k: v for k, v in body.items() if k != "ItemCode"}
        return _guard(lambda: _strip(store.insert_item(body["ItemCode"], **fields)))

    @app.post("/_emulator/periods")
    def set_period(body: dict[str, Any] = Body(...)) -> Response:
        """{"PeriodCode": "2025-06", "PeriodStatus": "ltLocked"}"""
        return _guard(lambda: _strip(store.set_period_status(body["PeriodCode"], body["PeriodStatus"])))


def _guard(action: Any) -> Response:
    try:
        return JSONResponse(action())
    except SLError as exc:
        return render_error("v2", exc)
    except (KeyError, ValueError) as exc:
        return JSONResponse({"error": f"bad request: {exc}"}, status_code=400)


def _strip(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}

"""The emulator's in-memory account: purchase orders, the connection catalog, webhooks, stats.

Exposed as `app.state.ip`. Tests may drive it from their own thread while uvicorn serves requests
on another, so every state change happens under one re-entrant lock.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from app.emulators.inventory_planner import catalog as cat
from app.emulators.inventory_planner import dates, query, seed, specs, starter
from app.emulators.inventory_planner import purchase_orders as pos
from app.emulators.inventory_planner.config import IPEmulatorConfig, StarterConnector
from app.emulators.inventory_planner.errors import IPError, bad_request
from app.emulators.inventory_planner.faults import FaultInjector
from app.emulators.inventory_planner.ingest import Ingestor, RowError
from app.emulators.inventory_planner.statuses import StatusTable
from app.emulators.inventory_planner.webhooks import TOPIC, Emitter

MAX_LOG = 500


class IPStore:
    def __init__(self, config: IPEmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.statuses = StatusTable(config.custom_statuses)
        self.faults = FaultInjector(config.faults, config.rng_seed)
        self.emitter = Emitter(config.webhooks)
        self.catalog = seed.seed_catalog(config)
        self.purchase_orders = seed.seed_purchase_orders(config, self.catalog)
        self.variants: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.connectors: list[StarterConnector] = list(config.starter_connectors)
        self.requests: Counter[str] = Counter()
        self.file_reports: list[dict[str, Any]] = []
        self.starter_reports: list[dict[str, Any]] = []
        self.syncs = 0
        self._ids = itertools.count(2001)
        self.sftp_root = self._make_root(config.sftp_root)
        self.ingestor = Ingestor(self.sftp_root, self.catalog, self._apply_stock_order)
        self.loop: asyncio.AbstractEventLoop | None = None  # the serving loop, set by the lifespan
        self.sftp_port: int | None = None  # the bound port once the SFTP server runs
        self.sftp_known_hosts_line: str | None = None
        self.sftp_host_public_key: str | None = None
        self.publish()

    @staticmethod
    def _make_root(root: Path | None) -> Path:
        path = Path(root) if root else Path(tempfile.mkdtemp(prefix="ip-emulator-sftp-"))
        for entity in specs.ENTITY_FOLDERS:
            (path / entity).mkdir(parents=True, exist_ok=True)
        return path

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    # --- purchase orders ----------------------------------------------------------------------

    def list_purchase_orders(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        return self._list(
            "purchase-orders",
            "purchase orders",
            list(self.purchase_orders.values()),
            params,
            lambda po: pos.render(po, self.config),
        )

    def get_purchase_order(self, po_id: str) -> dict[str, Any]:
        with self.lock:
            return pos.render(self._po(po_id), self.config)

    def _po(self, po_id: str) -> dict[str, Any]:
        po = self.purchase_orders.get(po_id)
        if po is None:
            raise IPError(self.config.not_found_status, f"Failed to find purchase-order {po_id}")
        return po

    def _writable_po(self, po_id: str) -> dict[str, Any]:
        po = self._po(po_id)
        if po.get("readonly"):
            # Never write a read-only PO (reference §10.7); IP refuses the edit.
            raise IPError(400, f"Purchase order {po_id} is read-only")
        return po

    def _names(self) -> dict[str, dict[str, str]]:
        return {
            "vendors": {k: v["display_name"] for k, v in self.catalog.vendors.items()},
            "warehouses": {k: v["display_name"] for k, v in self.catalog.warehouses.items()},
        }

    def _find_variant(self, row: dict[str, Any]) -> dict[str, Any] | None:
        if row.get("variant_id") in self.catalog.variants:
            return self.catalog.variants[row["variant_id"]]
        sku = row.get("sku")
        return next((v for v in self.catalog.variants.values() if sku and v["sku"] == sku), None)

    def create_purchase_order(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            now = dates.now_ts()
            po = self._blank_po(body, now)
            pos.apply_header(po, body, self.config, self.statuses, self._names())
            if body.get("variants_filter"):
                self._fill_from_variants(po, body["variants_filter"])
            pos.apply_items(po, body.get("items") or [], self._find_variant, lambda: self.new_id("li"))
            pos.recompute_totals(po)
            pos.touch(po, now)
            self.purchase_orders[po["id"]] = po
            return pos.render(po, self.config)

    def _blank_po(self, body: dict[str, Any], now: float) -> dict[str, Any]:
        if not body.get("warehouse"):
            raise bad_request("warehouse is required")
        kind = str(body.get("type") or "po").lower()
        return {
            "id": self.new_id("po"),
            "reference": "",
            "extra_reference": "",
            "type": kind,
            # A new order is a draft unless told otherwise: drafts are not saved anywhere (§6).
            "status": "draft",
            "source_type": "vendor" if kind == "po" else "warehouse",
            "vendor": None,
            "vendor_display_name": None,
            "warehouse": None,
            "warehouse_display_name": None,
            "expected_date": None,
            "created_date": now,
            "created_at": now,
            "currency": body.get("currency", "USD"),
            "readonly": False,
            "version": 0,
            "notes": "",
            "connections": [],
            "history": [],
            "items": [],
        }

    def _fill_from_variants(self, po: dict[str, Any], spec: dict[str, Any]) -> None:
        """Server-side fill (reference §6 "Create"): every variant of the vendor with to_order > 0."""
        vendor = spec.get("vendor") or po.get("vendor")
        for variant in self.variants.values():
            if vendor and vendor not in variant.get("vendors", []):
                continue
            block = next((b for b in variant["warehouse"] if b["warehouse"] == po["warehouse"]), None)
            if block and block["to_order"] > float(spec.get("to_order_gt", 0)):
                line = pos.new_line(self.new_id("li"), variant, block["to_order"], 0.0)
                po["items"].append(line)

    def update_purchase_order(self, po_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            po = self._writable_po(po_id)
            self._apply_update(po, body)
            return pos.render(po, self.config)

    def _apply_update(self, po: dict[str, Any], body: dict[str, Any]) -> None:
        pos.apply_header(po, body, self.config, self.statuses, self._names())
        if "items" in body:
            pos.apply_items(po, body["items"] or [], self._find_variant, lambda: self.new_id("li"))
        pos.recompute_totals(po)
        pos.touch(po)

    def edit_purchase_order(self, po_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A planner editing the order in IP's UI: read-only does not stop the account owner."""
        with self.lock:
            po = self._po(po_id)
            if "readonly" in changes:
                po["readonly"] = bool(changes["readonly"])
            self._apply_update(po, {k: v for k, v in changes.items() if k != "readonly"})
            return pos.render(po, self.config)

    def receive_items(self, po_id: str, rows: Any) -> dict[str, Any]:
        if not isinstance(rows, list):
            raise bad_request("items must be a list")
        with self.lock:
            po = self._writable_po(po_id)
            if self.statuses.type_of(po["status"]) == "cancelled":
                raise bad_request(f"Purchase order {po_id} is cancelled")
            now = dates.now_ts()
            changed = pos.receive(po, rows, self.config.receive_semantics, now)
            self._after_receipt(po, changed, now)
            # The echo carries received and replenishment (reference §6 "Receive").
            return {
                "items": [
                    {
                        "id": i["id"],
                        "received": i["received"],
                        "replenishment": i["replenishment"],
                        "remaining": max(i["replenishment"] - i["received"], 0),
                    }
                    for i in changed
                ]
            }

    def _after_receipt(self, po: dict[str, Any], changed: list[dict[str, Any]], now: float) -> None:
        pos.recompute_totals(po)
        if changed:
            po["received_date"] = now
            status = pos.status_after_receipt(po)
            if status and self.statuses.type_of(po["status"]) in {"active", "draft"}:
                po["status"] = status
        pos.touch(po, now)

    # --- webhooks ------------------------------------------------------------------------------

    def list_webhooks(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        return self._list("webhooks", "webhooks", list(self.webhooks.values()), params, _copy)

    def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        with self.lock:
            hook = self.webhooks.get(webhook_id)
            if hook is None:
                raise IPError(self.config.not_found_status, f"Failed to find webhook {webhook_id}")
            return dict(hook)

    def save_webhook(self, body: dict[str, Any], webhook_id: str | None = None) -> dict[str, Any]:
        with self.lock:
            current: dict[str, Any] = (
                self.get_webhook(webhook_id) if webhook_id else {"id": self.new_id("wh")}
            )
            hook: dict[str, Any] = {
                **current,
                **{k: body[k] for k in ("address", "fields", "topic") if k in body},
            }
            if not hook.get("address"):
                raise bad_request("address is required")
            if hook.setdefault("topic", TOPIC) != TOPIC:
                raise bad_request(f"Unsupported topic {hook['topic']}")
            hook.setdefault("fields", "")
            self.webhooks[hook["id"]] = hook
            return dict(hook)

    def delete_webhook(self, webhook_id: str) -> None:
        with self.lock:
            self.get_webhook(webhook_id)
            del self.webhooks[webhook_id]

    async def save_to_connection(self, po_id: str) -> dict[str, Any]:
        """ "Save to" a connection (reference §8): the one moment IP fires connection-save."""
        with self.lock:
            po = self._po(po_id)
            if po["status"] == "draft":
                po["status"] = "open"  # saving places the order; a draft is never pushed anywhere
            po["connections"].append({"connection": "b1bridge", "saved_at": int(dates.now_ts())})
            if self.config.save_makes_readonly:
                po["readonly"] = True
            pos.touch(po)
            rendered = pos.render(po, self.config)
            subs = [(h["id"], h["address"]) for h in self.webhooks.values() if h["topic"] == TOPIC]
            bodies = {h["id"]: self._webhook_body(rendered, h["fields"]) for h in self.webhooks.values()}
        events = self.emitter.emit(subs, bodies)
        return {"purchase-order": rendered, "events": events}

    @staticmethod
    def _webhook_body(po: dict[str, Any], fields: str) -> dict[str, Any]:
        wanted = [f.strip() for f in (fields or "").split(",") if f.strip()]
        if wanted and "id" not in wanted:
            wanted.append("id")  # the receiver re-fetches by id; a hint without it would be useless
        return {"purchase-order": query.project(po, wanted or None)}

    # --- variants and vendors ------------------------------------------------------------------

    def list_variants(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        return self._list(
            "variants",
            "variants",
            list(self.variants.values()),
            params,
            _copy,
            ids_only={"warehouse": "warehouse"},
        )

    def get_variant(self, variant_id: str, fields: list[str] | None) -> dict[str, Any]:
        with self.lock:
            variant = self.variants.get(variant_id)
            if variant is None:
                raise IPError(self.config.not_found_status, f"Failed to find variant {variant_id}")
            return query.project(dict(variant), fields, {"warehouse": "warehouse"})

    def variant_vendors(self, variant_id: str) -> list[dict[str, Any]]:
        with self.lock:
            self.get_variant(variant_id, None)
            price = float(self.catalog.variants.get(variant_id, {}).get("price", 0))
            return [
                self._variant_vendor(vid, price) for vid in self.catalog.variant_vendors.get(variant_id, [])
            ]

    def _variant_vendor(self, vendor_id: str, price: float) -> dict[str, Any]:
        vendor = self.catalog.vendors.get(vendor_id, {"display_name": vendor_id})
        return {
            "vendor": vendor_id,
            "vendor_name": vendor["display_name"],
            "cost_price": round(price * 0.6, 2),
            "landing_cost_price": round(price * 0.65, 2),
            "vendor_reference": "",
            "vendor_packaging": 1,
            "uom_ordering": 1,
        }

    def list_vendors(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        return self._list("vendors", "vendors", list(self.catalog.vendors.values()), params, self._vendor_doc)

    def get_vendor(self, vendor_id: str) -> dict[str, Any]:
        with self.lock:
            vendor = self.catalog.vendors.get(vendor_id) or self.catalog.vendors.get(vendor_id.lower())
            if vendor is None:
                raise IPError(self.config.not_found_status, f"Failed to find vendor {vendor_id}")
            return self._vendor_doc(vendor)

    @staticmethod
    def _vendor_doc(vendor: dict[str, Any]) -> dict[str, Any]:
        return {**vendor, "updated_at": dates.render_instant(vendor.get("updated_at"))}

    def _list(
        self,
        name: str,
        display: str,
        records: list[dict[str, Any]],
        params: list[tuple[str, str]],
        render: Any,
        ids_only: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        parsed = self._parse_query(params)
        with self.lock:
            rows, meta = query.page(query.apply(records, parsed), parsed)
            body = [query.project(render(row), parsed.fields, ids_only) for row in rows]
        return {name: body, "meta": {"name": name, "display_name": display, **meta}}

    def _parse_query(self, params: list[tuple[str, str]]) -> query.ListQuery:
        try:
            parsed = query.parse(params, self.config.default_limit)
        except ValueError:
            raise bad_request("page and limit must be integers")
        if parsed.limit < 1:
            raise bad_request("limit must be at least 1")
        if parsed.limit > self.config.max_limit:
            if self.config.limit_overflow == "error":
                raise bad_request(f"limit must not exceed {self.config.max_limit}")
            parsed.limit = self.config.max_limit
        return parsed

    # --- nightly sync, Starter fetch, stock --------------------------------------------------

    def run_sync(self) -> dict[str, Any]:
        """IP's nightly sync (reference §3, §11.10): ingest files, then publish new numbers."""
        with self.lock:
            reports = [r.as_dict() for r in self.ingestor.run()]
            self.file_reports = (self.file_reports + reports)[-MAX_LOG:]
            self.syncs += 1
            self.publish()
            return {"sync": self.syncs, "files": reports}

    def publish(self) -> None:
        with self.lock:
            self.variants = cat.publish(self.catalog, self._open_quantities(), self.variants, dates.now_ts())

    def _open_quantities(self) -> dict[tuple[str, str], float]:
        totals: dict[tuple[str, str], float] = {}
        for po in self.purchase_orders.values():
            if self.statuses.type_of(po["status"]) != "active":
                continue
            for item in po["items"]:
                key = (item.get("variant_id") or self.catalog.api_id(item["sku"]), po["warehouse"])
                totals[key] = totals.get(key, 0) + item["remaining"]
        return totals

    def read_stock(self) -> dict[str, dict[str, float]]:
        """Published in_stock per variant id x warehouse id, as /variants shows it (after sync)."""
        with self.lock:
            return {
                vid: {b["warehouse"]: b["in_stock"] for b in v["warehouse"]}
                for vid, v in self.variants.items()
                if v["warehouse"]
            }

    def skew_stock(self, sku: str, warehouse: str, delta: float) -> float:
        """Make IP's published figure diverge from what was ingested, as a skipped file or an
        edit in IP's own UI would; the next sync that ingests a row for it puts it right."""
        with self.lock:
            variant = next(v for v in self.variants.values() if v["sku"] == sku)
            block = next(b for b in variant["warehouse"] if b["warehouse"] == warehouse)
            block["in_stock"] = float(block["in_stock"]) + delta
            return float(block["in_stock"])

    def stock_of(self, sku: str, warehouse: str) -> float | None:
        with self.lock:
            variant = next((v for v in self.variants.values() if v["sku"] == sku), None)
            block = next(
                (b for b in (variant or {}).get("warehouse", []) if b["warehouse"] == warehouse), None
            )
            return None if block is None else block["in_stock"]

    def set_connectors(self, connectors: list[StarterConnector]) -> None:
        with self.lock:
            self.connectors = list(connectors)

    async def fetch_starter(self) -> dict[str, Any]:
        """IP's daily Starter fetch; each connector's snapshot replaces its warehouse's products."""
        reports = [await self._fetch_one(connector) for connector in list(self.connectors)]
        with self.lock:
            self.starter_reports = (self.starter_reports + reports)[-MAX_LOG:]
            self.publish()
        return {"connectors": reports}

    async def _fetch_one(self, connector: StarterConnector) -> dict[str, Any]:
        report: dict[str, Any] = {
            "warehouse": connector.warehouse,
            "url": connector.url,
            "at": dates.render_instant(dates.now_ts()),
        }
        try:
            products = starter.parse_products(await starter.download(connector))
        except starter.FetchError as exc:
            return {**report, "ok": False, "error": str(exc)}
        with self.lock:
            deleted = self._replace_warehouse(connector.warehouse, products)
        return {**report, "ok": True, "products": len(products), "deleted": deleted}

    def _replace_warehouse(self, warehouse: str, products: list[starter.Product]) -> int:
        if warehouse not in self.catalog.warehouses:
            self.catalog.warehouses[warehouse] = {
                "id": warehouse,
                "display_name": warehouse,
                "removed": False,
            }
        keep = set()
        for product in products:
            vid = self._upsert_starter_variant(product)
            keep.add(vid)
            self.catalog.stock[(vid, warehouse)] = {
                "in_stock": product.stock_quantity,
                "removed": False,
                "updated_at": product.updated_at,
            }
        # Full snapshot: anything this warehouse had that the file lacks is deleted (reference §2.1).
        gone = [key for key in self.catalog.stock if key[1] == warehouse and key[0] not in keep]
        for key in gone:
            del self.catalog.stock[key]
        return len(gone)

    def _upsert_starter_variant(self, product: starter.Product) -> str:
        existing = next((v for v in self.catalog.variants.values() if v["sku"] == product.sku), None)
        vid = existing["id"] if existing else self.catalog.api_id(product.sku)
        self.catalog.variants[vid] = {
            **(existing or {}),
            "id": vid,
            "sku": product.sku,
            "title": product.title,
            "barcode": product.barcode,
            "product_id": product.product_id,
            "price": product.price,
            "removed": False,
            "created_at": product.created_at,
            "updated_at": product.updated_at,
        }
        return vid

    def _apply_stock_order(self, order_id: str, rows: list[dict[str, str]]) -> None:
        """A stock-order file (open POs from the connection) becomes a read-only PO in IP."""
        po_id = self.catalog.api_id(order_id)
        first = rows[0]
        warehouse = self.catalog.api_id(first["WAREHOUSE"])
        if warehouse not in self.catalog.warehouses:
            raise RowError(f"unknown warehouse {first['WAREHOUSE']}")
        vendor = self._vendor_by_name(first["VENDOR"])
        if first["VENDOR"] and vendor is None:
            raise RowError(f"unknown vendor {first['VENDOR']} (vendors match by display name)")
        po = self.purchase_orders.get(po_id) or self._csv_po(po_id, first)
        po.update(
            {
                "warehouse": warehouse,
                "vendor": vendor,
                "reference": first["REFERENCE"],
                "warehouse_display_name": self.catalog.warehouses[warehouse]["display_name"],
                "vendor_display_name": first["VENDOR"] or None,
                "status": self.statuses.normalise(first["STATUS"] or "open"),
                "extra_reference": first.get("REFERENCE2", ""),
            }
        )
        po["items"] = [self._csv_line(row) for row in rows if not specs.parse_bool(row["REMOVED"])]
        pos.recompute_totals(po)
        pos.touch(po)
        self.purchase_orders[po_id] = po

    def _vendor_by_name(self, name: str) -> str | None:
        return next((v["id"] for v in self.catalog.vendors.values() if v["display_name"] == name), None)

    def _csv_po(self, po_id: str, first: dict[str, str]) -> dict[str, Any]:
        created = dates.parse_any(first["CREATED_DATE"]) if first["CREATED_DATE"] else dates.now_ts()
        return {
            "id": po_id,
            "type": (first.get("TYPE") or "po").lower(),
            "source_type": "vendor",
            "created_date": created,
            "created_at": created,
            "currency": first["CURRENCY"],
            "readonly": True,
            "version": 0,
            "connections": [],
            "history": [],
            "notes": "",
            "items": [],
        }

    def _csv_line(self, row: dict[str, str]) -> dict[str, Any]:
        vid = self.catalog.api_id(row["VARIANT_ID"])
        if vid not in self.catalog.variants:
            raise RowError(f"unknown variant {row['VARIANT_ID']}")
        line = pos.new_line(
            row["LINE_ITEM_ID"],
            self.catalog.variants[vid],
            float(row["REPLENISHMENT"] or 0),
            float(row["COST_PRICE"] or 0),
        )
        line["received"] = float(row["RECEIVED"] or 0)
        return line

    # --- calls from a test thread ---------------------------------------------------------------

    def _on_server_loop(self, coro: Any) -> Any:
        """Run on the serving loop, so webhook retries outlive the caller (asyncio.run would kill them)."""
        if self.loop is None:
            coro.close()
            raise RuntimeError("the emulator is not serving; start it (lifespan) first")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def save_to_connection_blocking(self, po_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._on_server_loop(self.save_to_connection(po_id))
        return result

    def fetch_starter_blocking(self) -> dict[str, Any]:
        result: dict[str, Any] = self._on_server_loop(self.fetch_starter())
        return result

    # --- stats --------------------------------------------------------------------------------

    def count_request(self, route: str) -> None:
        with self.lock:
            self.requests[route] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": dict(self.requests),
                "faults": self.faults.stats(),
                "webhooks": self.emitter.stats.as_dict(),
                "ingest": {
                    "syncs": self.syncs,
                    "files": list(self.file_reports),
                    "superseded": list(self.ingestor.superseded),
                    "ingested": sum(1 for r in self.file_reports if r["status"] == "ingested"),
                    "skipped": sum(1 for r in self.file_reports if r["status"] == "skipped"),
                },
                "stock": self.read_stock(),
                "starter": {"fetches": list(self.starter_reports)},
                "sftp": {"port": self.sftp_port, "root": str(self.sftp_root)},
            }


def _copy(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row)

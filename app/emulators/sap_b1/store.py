"""The emulator's in-memory company: entity tables, sequences, UDFs, periods, sessions and stats.

Exposed as `app.state.sap`; the public methods below are what tests use to change the world
mid-run (stock moves, new items, period status, session expiry).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from app.emulators.sap_b1 import periods as period_mod
from app.emulators.sap_b1 import schema, seed
from app.emulators.sap_b1.config import EmulatorConfig, FaultConfig
from app.emulators.sap_b1.errors import invalid_property, not_found
from app.emulators.sap_b1.schema import EntityType
from app.emulators.sap_b1.table import EntityTable

Row = dict[str, Any]


class Stats:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.documents_created: Counter[str] = Counter()
        self.duplicates_by_ext_ref: Counter[str] = Counter()
        self.lock_conflicts = 0
        self.logins = 0
        self.login_failures: Counter[str] = Counter()
        self.logouts = 0
        self.writes = 0


class Sessions:
    """Sliding idle timeout per session (reference §2); `clock` is monotonic seconds."""

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self.clock = clock
        self.last_seen: dict[str, float] = {}
        self.broken: set[str] = set()

    def create(self) -> str:
        session_id = str(uuid.uuid4())
        self.last_seen[session_id] = self.clock()
        return session_id

    def touch(self, session_id: str | None) -> bool:
        """Valid → slide the window and return True; expired → forget it."""
        seen = self.last_seen.get(session_id or "")
        if seen is None:
            return False
        now = self.clock()
        if now - seen > self.timeout_s:
            self.drop(session_id or "")
            return False
        self.last_seen[session_id or ""] = now
        return True

    def drop(self, session_id: str) -> None:
        self.last_seen.pop(session_id, None)
        self.broken.discard(session_id)

    def expire_all(self) -> None:
        self.last_seen.clear()
        self.broken.clear()


class SapStore:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock: Callable[[], datetime] = datetime.now  # SAP stamps server-local time
        self.faults: FaultConfig = config.faults
        self.fault_rng = random.Random(self.faults.seed)
        self.sessions = Sessions(config.session_timeout_s)
        self.reset()

    # --- lifecycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Re-seed everything (data, sequences, UDFs, periods, stats); sessions survive."""
        self.tables = {name: EntityTable(etype) for name, etype in schema.ALL_SETS.items()}
        self.next_entry: Counter[str] = Counter()
        self.stats = Stats()
        self.row_locks: set[tuple[str, str]] = set()
        self.ext_refs: dict[str, Counter[str]] = {}
        self.inflight_logins = 0
        self.inflight_requests = 0
        self.authenticated_requests = 0
        self._seed_data()

    def _seed_data(self) -> None:
        cfg = self.config
        rng = random.Random(cfg.seed)
        today = self.today()
        whs = seed.warehouses(cfg.warehouses)
        bps = seed.business_partners(rng, cfg.items, today)
        vendors = [bp["CardCode"] for bp in bps if bp["CardType"] == "cSupplier" and bp["Valid"] == "tYES"]
        self.tables["Warehouses"].load(whs)
        self.tables["ItemGroups"].load(seed.item_groups())
        self.tables["BusinessPartners"].load(bps)
        codes = [w["WarehouseCode"] for w in whs]
        self.tables["Items"].load(seed.items(rng, cfg.items, codes, vendors, today))
        self.period_categories, self.periods = period_mod.seed_periods(today, cfg.locked_period_months_ago)
        if cfg.seed_ext_ref_udf:
            self.create_udf(
                {
                    "Name": cfg.ext_ref_udf.removeprefix("U_"),
                    "Type": "db_Alpha",
                    "Size": 50,
                    "Description": "b1bridge external reference",
                    "TableName": "OPOR",
                },
                active=True,
            )
            self.create_udf(
                {
                    "Name": cfg.ext_ref_udf.removeprefix("U_"),
                    "Type": "db_Alpha",
                    "Size": 50,
                    "Description": "b1bridge external reference",
                    "TableName": "OWOR",
                },
                active=True,
            )

    def restart(self) -> None:
        """A Service Layer restart: UDFs created since become visible (reference §10)."""
        for row in self.tables["UserFieldsMD"].rows.values():
            row["_active"] = True

    def set_faults(self, faults: FaultConfig) -> None:
        self.faults = faults
        self.fault_rng = random.Random(faults.seed)

    # --- time and sequences -----------------------------------------------------------------

    def today(self) -> date:
        return self.clock().date()

    def stamp(self) -> tuple[str, str]:
        now = self.clock()
        return now.date().isoformat(), now.strftime("%H:%M:%S")

    def next_key(self, set_name: str) -> int:
        self.next_entry[set_name] += 1
        return self.next_entry[set_name]

    # --- lookups ----------------------------------------------------------------------------

    def table(self, set_name: str) -> EntityTable:
        return self.tables[set_name]

    def get(self, set_name: str, key: Any) -> Row:
        row = self.tables[set_name].get(key)
        if row is None:
            raise not_found()
        return row

    def item(self, code: str) -> Row | None:
        return self.tables["Items"].get(code)

    def warehouse_row(self, item: Row, whs: str) -> Row | None:
        for row in item["ItemWarehouseInfoCollection"]:
            if row["WarehouseCode"] == whs:
                return row
        return None

    def resolver(self, etype: EntityType, lines: bool = False) -> Callable[[str], tuple[str, dict[str, str]]]:
        """Property name → (kind, enum map); unknown or undefined U_ fields → -1000 (§4, §10)."""
        fields = etype.line_fields if lines else etype.fields
        table = schema.LINE_TABLE.get(etype.table, etype.table) if lines else etype.table

        def resolve(name: str) -> tuple[str, dict[str, str]]:
            if name in fields:
                return fields[name], etype.enums.get(name, {})
            if name.startswith("U_") and self.udf_kind(table, name[2:]) is not None:
                return self.udf_kind(table, name[2:]) or "str", {}
            raise invalid_property(name, etype.type_name)

        return resolve

    # --- UDFs (UserFieldsMD, reference §10) -------------------------------------------------

    def udf_kind(self, table: str, name: str) -> str | None:
        scope = schema.udf_tables(table)
        for row in self.tables["UserFieldsMD"].rows.values():
            if row["Name"] == name and row["TableName"] in scope and row["_active"]:
                return {"db_Numeric": "num", "db_Float": "num", "db_Date": "date"}.get(row["Type"], "str")
        return None

    def create_udf(self, body: Row, active: bool | None = None) -> Row:
        from app.emulators.sap_b1.masterdata import new_udf

        row = new_udf(self, body)
        row["_active"] = (not self.config.visible_after_restart) if active is None else active
        self.tables["UserFieldsMD"].insert(row)
        return row

    # --- test helpers -----------------------------------------------------------------------

    def set_stock(
        self,
        item_code: str,
        warehouse: str,
        *,
        in_stock: float | None = None,
        committed: float | None = None,
        ordered: float | None = None,
    ) -> Row:
        """Change an OITW row directly, as another SAP user's documents would."""
        item = self.get("Items", item_code)
        row = self.warehouse_row(item, warehouse)
        if row is None:
            raise not_found()
        for name, value in (("InStock", in_stock), ("Committed", committed), ("Ordered", ordered)):
            if value is not None:
                row[name] = float(value)
        self.stock_changed(item)
        return row

    def stock_changed(self, item: Row) -> None:
        """Keep OITM totals in step with OITW; UpdateDate only moves if configured (§11)."""
        rows = item["ItemWarehouseInfoCollection"]
        item["QuantityOnStock"] = sum(r["InStock"] for r in rows)
        item["QuantityOrderedFromVendors"] = sum(r["Ordered"] for r in rows)
        item["QuantityOrderedByCustomers"] = sum(r["Committed"] for r in rows)
        if self.config.stock_moves_item_update_date:
            item["UpdateDate"], item["UpdateTime"] = self.stamp()
        self.tables["Items"].touch(item["ItemCode"])

    def insert_item(self, item_code: str, **fields: Any) -> Row:
        from app.emulators.sap_b1.masterdata import create_item

        return create_item(
            self, {"ItemCode": item_code, "ItemName": fields.pop("ItemName", item_code), **fields}
        )

    def update_item(self, item_code: str, **fields: Any) -> Row:
        """Write OITM fields as a SAP user would: stamps UpdateDate/Time and DataVersion."""
        item = self.get("Items", item_code)
        item.update(fields)
        self.stamp_row(item)
        self.tables["Items"].touch(item_code)
        return item

    def add_warehouse_rows(self, warehouse: str) -> None:
        """A new warehouse gets an OITW row on every item, as SAP does."""
        for item in self.tables["Items"].rows.values():
            if self.warehouse_row(item, warehouse) is None:
                item["ItemWarehouseInfoCollection"].append(
                    {
                        "ItemCode": item["ItemCode"],
                        "WarehouseCode": warehouse,
                        "InStock": 0.0,
                        "Committed": 0.0,
                        "Ordered": 0.0,
                        "Locked": "tNO",
                        "MinimalStock": 0.0,
                        "MaximalStock": 0.0,
                        "MinimalOrder": 0.0,
                    }
                )
                self.tables["Items"].touch(item["ItemCode"])

    def delete_item(self, item_code: str) -> None:
        self.tables["Items"].delete(item_code)

    def set_period_status(self, period_code: str, status: str) -> Row:
        if status not in period_mod.STATUSES:
            raise ValueError(status)
        for period in self.periods:
            if period["PeriodCode"] == period_code:
                period["PeriodStatus"] = status
                period["Locked"] = "tYES" if status == "ltLocked" else "tNO"
                return period
        raise KeyError(period_code)

    def expire_sessions(self) -> None:
        self.sessions.expire_all()

    def stamp_row(self, row: Row) -> None:
        row["UpdateDate"], row["UpdateTime"] = self.stamp()
        row["DataVersion"] = int(row.get("DataVersion") or 0) + 1

    def stats_snapshot(self) -> Row:
        s = self.stats
        return {
            "requests_by_route": dict(s.requests),
            "faults": dict(s.faults),
            "documents_created": dict(s.documents_created),
            "duplicates_by_ext_ref": dict(s.duplicates_by_ext_ref),
            "lock_conflicts": s.lock_conflicts,
            "logins": s.logins,
            "login_failures": dict(s.login_failures),
            "logouts": s.logouts,
            "sessions": len(self.sessions.last_seen),
            "writes": s.writes,
            "items": len(self.tables["Items"]),
        }

"""Stock-order statuses (reference §2.2 CSV2 10804148, §6 "Status").

The five defaults cannot be edited; custom statuses carry one of four types. Writes compare
case-insensitively (uppercase "CLOSED" was accepted) and defaults come back lowercase.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.emulators.inventory_planner.errors import bad_request

DEFAULTS: dict[str, str] = {
    "draft": "draft",
    "open": "active",
    "partially received": "active",
    "closed": "closed",
    "cancelled": "cancelled",
}


class StatusTable:
    def __init__(self, custom: Mapping[str, str]) -> None:
        self.types = dict(DEFAULTS)
        self.types.update({name.strip().lower(): kind for name, kind in custom.items()})

    def normalise(self, raw: object) -> str:
        name = str(raw).strip().lower()
        if name not in self.types:
            raise bad_request(f"Unknown status '{raw}'")
        return name

    def type_of(self, status: str) -> str:
        return self.types.get(status.lower(), "active")

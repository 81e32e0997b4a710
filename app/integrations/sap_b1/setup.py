"""Install-time checks of the SAP company: the external-reference UDF on every written table.

The UDF is b1bridge's idempotency key (a retry looks the document up before re-posting), so a
table without it would make every retry a potential duplicate. New UDFs stay invisible until the
Service Layer restarts, which is why this runs at install time and readiness reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from app.integrations.sap_b1.entities import WRITTEN_SPECS
from app.integrations.sap_b1.errors import SapError
from app.integrations.sap_b1.query import F

if TYPE_CHECKING:
    from app.integrations.sap_b1.client import SapB1Client

REQUIRED_TABLES: tuple[str, ...] = tuple(spec.table for spec in WRITTEN_SPECS if spec.table)
RESTART_NOTICE = ("The SAP B1 Service Layer must be restarted before a newly created user-defined "
                  "field can be used (SAP keeps UDF metadata per node until restart).")


class ExtRefStatus(NamedTuple):
    ok: bool
    missing: list[str]
    detail: str


@dataclass
class SetupResult:
    udf: str
    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def restart_required(self) -> bool:
        return bool(self.created)


def udf_name(settings_udf: str) -> str:
    """`U_B1B_ExtRef` is queried and posted as `B1B_ExtRef` in UserFieldsMD."""
    return settings_udf.removeprefix("U_")


async def tables_with_udf(client: SapB1Client) -> set[str]:
    name = udf_name(client.settings.ext_ref_udf)
    query = {"$filter": str(F("Name") == name), "$select": "Name,TableName"}
    return {row["TableName"] async for row in client.iter_entities("UserFieldsMD", query)}


async def ext_ref_status(client: SapB1Client) -> ExtRefStatus:
    """For /health/ready: is the UDF defined on every table b1bridge writes?"""
    try:
        present = await tables_with_udf(client)
    except SapError as exc:
        return ExtRefStatus(False, list(REQUIRED_TABLES), f"cannot read UserFieldsMD: {exc.message}")
    missing = [t for t in REQUIRED_TABLES if t not in present]
    udf = client.settings.ext_ref_udf
    if missing:
        detail = f"{udf} missing on {', '.join(missing)}: run `b1bridge sap setup`"
        return ExtRefStatus(False, missing, detail)
    return ExtRefStatus(True, [], f"{udf} present on {', '.join(REQUIRED_TABLES)}")


async def ensure_ext_ref(client: SapB1Client) -> SetupResult:
    """Create the UDF where it is missing. Re-reads after each creation: on real B1 a header UDF
    created on one marketing-document table can appear on its siblings too."""
    result = SetupResult(client.settings.ext_ref_udf)
    present = await tables_with_udf(client)
    for table in REQUIRED_TABLES:
        if table in present:
            result.present.append(table)
            continue
        try:
            await client.create("UserFieldsMD", _udf_body(client, table))
            result.created.append(table)
        except SapError as exc:
            result.failed[table] = exc.message
        present = await tables_with_udf(client)
    return result


def _udf_body(client: SapB1Client, table: str) -> dict[str, object]:
    return {"Name": udf_name(client.settings.ext_ref_udf), "Type": "db_Alpha", "Size": 50,
            "Description": "b1bridge external reference", "TableName": table}

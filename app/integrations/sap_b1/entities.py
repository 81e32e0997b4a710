"""Typed helpers per entity set: `client.items.get("A1")`, `client.purchase_orders.create(...)`.

Each set knows its key property and model; rows are validated into models here (off the hot
path). Raw-dict iteration stays on the client (`iter_entities`, `iter_keyset`) for bulk reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from app.integrations.sap_b1.query import Expr, params
from app.integrations.sap_b1.schemas import (
    BusinessPartner,
    Document,
    Item,
    ItemGroup,
    ProductionOrder,
    SapModel,
    StockTransfer,
    Warehouse,
)

if TYPE_CHECKING:
    from app.integrations.sap_b1.client import SapB1Client

M = TypeVar("M", bound=SapModel)


@dataclass(frozen=True, slots=True)
class EntitySpec(Generic[M]):
    name: str  # the entity set, e.g. "PurchaseOrders"
    key: str  # key property, e.g. "DocEntry"
    model: type[M]
    table: str | None = None  # header table for UDFs (OPOR...), None where b1bridge never writes


ITEMS = EntitySpec("Items", "ItemCode", Item, "OITM")
WAREHOUSES = EntitySpec("Warehouses", "WarehouseCode", Warehouse)
ITEM_GROUPS = EntitySpec("ItemGroups", "Number", ItemGroup)
BUSINESS_PARTNERS = EntitySpec("BusinessPartners", "CardCode", BusinessPartner)
PURCHASE_ORDERS = EntitySpec("PurchaseOrders", "DocEntry", Document, "OPOR")
PURCHASE_REQUESTS = EntitySpec("PurchaseRequests", "DocEntry", Document, "OPRQ")
PRODUCTION_ORDERS = EntitySpec("ProductionOrders", "AbsoluteEntry", ProductionOrder, "OWOR")
GOODS_RECEIPTS = EntitySpec("InventoryGenEntries", "DocEntry", Document, "OIGN")
GOODS_ISSUES = EntitySpec("InventoryGenExits", "DocEntry", Document, "OIGE")
PURCHASE_DELIVERY_NOTES = EntitySpec("PurchaseDeliveryNotes", "DocEntry", Document, "OPDN")
STOCK_TRANSFERS = EntitySpec("StockTransfers", "DocEntry", StockTransfer, "OWTR")

# The document tables b1bridge posts to, hence the ones that need the external-reference UDF.
WRITTEN_SPECS: tuple[EntitySpec[Any], ...] = (PURCHASE_ORDERS, PURCHASE_REQUESTS, PRODUCTION_ORDERS,
                                              GOODS_RECEIPTS, GOODS_ISSUES)


@dataclass(frozen=True, slots=True)
class CreatedEntity(Generic[M]):
    entity: M
    etag: str | None
    location: str | None


class EntitySet(Generic[M]):
    def __init__(self, client: SapB1Client, spec: EntitySpec[M]) -> None:
        self.client = client
        self.spec = spec

    def _model(self, row: Mapping[str, Any]) -> M:
        return self.spec.model.model_validate(row)

    async def get(self, key: str | int, *, select: list[str] | None = None) -> M:
        return self._model(await self.client.get(self.spec.name, key, select=select))

    async def iter(self, *, filter: Expr | None = None, select: list[str] | None = None,
                   orderby: list[str] | None = None, page_size: int | None = None) -> AsyncIterator[M]:
        query = params(filter=filter, select=select, orderby=orderby)
        async for row in self.client.iter_entities(self.spec.name, query, page_size=page_size):
            yield self._model(row)

    async def iter_keyset(self, *, filter: Expr | None = None, select: list[str] | None = None,
                          page_size: int | None = None) -> AsyncIterator[M]:
        async for rows in self.client.iter_keyset(self.spec.name, key=self.spec.key, filter=filter,
                                                  select=select, page_size=page_size):
            for row in rows:
                yield self._model(row)

    async def list_all(self, *, filter: Expr | None = None, select: list[str] | None = None,
                   orderby: list[str] | None = None) -> list[M]:
        return [m async for m in self.iter(filter=filter, select=select, orderby=orderby)]

    async def create(self, body: M | Mapping[str, Any]) -> CreatedEntity[M]:
        payload = body.to_sap() if isinstance(body, SapModel) else dict(body)
        created = await self.client.create(self.spec.name, payload)
        model = self._model({**created.entity, "@odata.etag": created.etag})
        return CreatedEntity(model, created.etag, created.location)

    async def patch(self, key: str | int, body: M | Mapping[str, Any], *, etag: str | None = None) -> None:
        payload = body.to_sap() if isinstance(body, SapModel) else dict(body)
        await self.client.patch(self.spec.name, key, payload, etag=etag)

    async def find_by_ext_ref(self, value: str, *, select: list[str] | None = None) -> M | None:
        row = await self.client.find_by_ext_ref(self.spec.name, value, select=select)
        return self._model(row) if row is not None else None

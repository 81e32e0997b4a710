"""Tolerant models of what Inventory Planner's REST API returns.

IP's API is "beta, subject to change" with no published schema (reference §0), so these models
accept every shape seen in the wild: costs and quantities as strings (§6, HNJ), dates as
`YYYY-MM-DD`, ISO 8601 or Unix timestamps (§6 "Dates on writes", §10.9), missing optional fields
and unknown extra fields. One bad record becomes a `RecordError`, never a failed batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

# --- tolerant scalar parsing -------------------------------------------------------------------

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
# Unix timestamps above this are milliseconds (year 5138 in seconds; IP uses seconds, but be safe).
_MILLIS_THRESHOLD = 100_000_000_000


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_decimal(value: Any) -> Decimal | None:
    """`1.5`, `"1.50"`, `"1,234.5"` → Decimal; blank → None; anything else → ValueError."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int | float | Decimal):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}")
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _from_unix(value: float) -> datetime:
    seconds = value / 1000 if abs(value) >= _MILLIS_THRESHOLD else value
    return datetime.fromtimestamp(seconds, UTC)


def parse_datetime(value: Any) -> datetime | None:
    """YYYY-MM-DD (midnight UTC), ISO 8601 (naive = UTC) or Unix seconds/ms → aware UTC."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    if isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(value, int | float):
        return _from_unix(float(value))
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    text = value.strip()
    if _NUMERIC.match(text):
        return _from_unix(float(text))
    if _DATE_ONLY.match(text):
        return datetime.combine(date.fromisoformat(text), time(), UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date: {value!r}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    """Any `parse_datetime` input → its UTC calendar date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    parsed = parse_datetime(value)
    return parsed.date() if parsed else None


def parse_bool(value: Any) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def parse_id(value: Any) -> str | None:
    """Ids are strings (§6) but some payloads carry numbers; never accept containers."""
    if _blank(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"not an id: {value!r}")
    return str(value).strip()


def _required_id(value: Any) -> str:
    parsed = parse_id(value)
    if parsed is None:
        raise ValueError("id is missing")
    return parsed


Num = Annotated[Decimal | None, BeforeValidator(parse_decimal)]
When = Annotated[datetime | None, BeforeValidator(parse_datetime)]
Day = Annotated[date | None, BeforeValidator(parse_date)]
Flag = Annotated[bool | None, BeforeValidator(parse_bool)]
OptId = Annotated[str | None, BeforeValidator(parse_id)]
Id = Annotated[str, BeforeValidator(_required_id)]


class _IPModel(BaseModel):
    # Unknown fields are kept (IP adds fields without notice) and never rejected.
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- statuses ----------------------------------------------------------------------------------


class StatusType(StrEnum):
    draft = "draft"
    active = "active"
    closed = "closed"
    cancelled = "cancelled"
    unmapped = "unmapped"  # never treated as open (§6 Rule, §10.7)


# The five default statuses cannot be edited or deleted in IP (§2.2, CSV2 10804148).
DEFAULT_STATUS_TYPES: Mapping[str, StatusType] = {
    "open": StatusType.active,
    "draft": StatusType.draft,
    "partially received": StatusType.active,
    "closed": StatusType.closed,
    "cancelled": StatusType.cancelled,
}


def normalise_status(raw: str | None) -> str:
    """IP returns `open` but accepts `OPEN` (§6): compare casefolded, `_`/`-`/spaces collapsed."""
    if not raw:
        return ""
    return " ".join(re.sub(r"[_\-]+", " ", raw).split()).casefold()


@dataclass(frozen=True)
class StatusClassification:
    raw: str | None
    normalised: str
    type: StatusType
    is_default: bool

    @property
    def mapped(self) -> bool:
        return self.type is not StatusType.unmapped


class StatusMap:
    """Default statuses plus an account's custom ones (`{"ordered": "active"}`) → a status type."""

    def __init__(self, custom: Mapping[str, StatusType | str] | None = None) -> None:
        self._types = dict(DEFAULT_STATUS_TYPES)
        for name, kind in (custom or {}).items():
            status_type = StatusType(str(kind).lower())
            if status_type is StatusType.unmapped:
                raise ValueError(f"custom status {name!r} must map to draft/active/closed/cancelled")
            self._types[normalise_status(name)] = status_type

    def classify(self, raw: str | None) -> StatusClassification:
        key = normalise_status(raw)
        return StatusClassification(
            raw=raw,
            normalised=key,
            type=self._types.get(key, StatusType.unmapped),
            is_default=key in DEFAULT_STATUS_TYPES,
        )


# --- purchase orders ---------------------------------------------------------------------------


class ReceivedEntry(_IPModel):
    date: When = None  # Unix timestamps in the received history (§6, REP)
    value: Num = None


class IPPurchaseOrderItem(_IPModel):
    id: Id
    sku: str | None = None
    title: str | None = None
    barcode: str | None = None
    vendor_reference: str | None = None
    product_id: OptId = None
    variant_id: OptId = None  # the field holding the variant id is unconfirmed (§6)
    replenishment: Num = None  # the ordered quantity
    replenishment_original: Num = None
    received: Num = None
    remaining: Num = None
    cost_price: Num = None
    ordered_cost: Num = None
    uom_ordering: Num = None
    in_stock: Num = None
    total: Num = None
    version: OptId = None
    received_history: list[ReceivedEntry] | None = None


class IPPurchaseOrder(_IPModel):
    id: Id
    reference: str | None = None
    extra_reference: str | None = None
    status: str | None = None
    type: str | None = None  # po (or empty), transfer, assembly
    source_type: str | None = None
    vendor: OptId = None
    vendor_display_name: str | None = None
    source_warehouse: OptId = None
    warehouse: OptId = None
    warehouse_display_name: str | None = None
    currency: str | None = None
    created_date: Day = None
    expected_date: Day = None
    received_date: Day = None
    last_modified: When = None
    readonly: Flag = None
    total: Num = None
    total_ordered: Num = None
    total_received: Num = None
    version: OptId = None
    items: list[IPPurchaseOrderItem] = Field(default_factory=list)

    @property
    def is_readonly(self) -> bool:
        return bool(self.readonly)

    @property
    def kind(self) -> str:
        # An empty type means a PO (§6).
        return (self.type or "po").lower()

    def status_type(self, statuses: StatusMap | None = None) -> StatusClassification:
        return (statuses or StatusMap()).classify(self.status)


# --- variants, vendors, webhooks ---------------------------------------------------------------


class IPVariantWarehouse(_IPModel):
    """A per-warehouse block of a variant (§7; the id key is unconfirmed, so accept all three)."""

    warehouse: OptId = Field(default=None, validation_alias=AliasChoices("warehouse", "warehouse_id", "id"))
    in_stock: Num = None
    replenishment: Num = None
    to_order: Num = None
    lead_time: Num = None
    oos: Num = None
    replenishment_notes: Any = None


def _warehouse_blocks(value: Any) -> Any:
    # Seen as a list of blocks; accept a dict keyed by warehouse id too.
    if isinstance(value, Mapping):
        return [{"warehouse": key, **(block if isinstance(block, Mapping) else {})}
                for key, block in value.items()]
    return value


class IPVariant(_IPModel):
    id: Id
    sku: str | None = None
    title: str | None = None
    barcode: str | None = None
    product_id: OptId = None
    removed: Flag = None
    in_stock: Num = None
    replenishment: Num = None
    to_order: Num = None
    lead_time: Num = None
    review_period: Num = None
    oos: Num = None
    under_value: Num = None
    purchase_orders_qty: Num = None
    minimum_stock: Num = None
    forecasted_stock: Num = None
    last_forecast_time: When = None
    updated_at: When = None
    warehouse: Annotated[list[IPVariantWarehouse], BeforeValidator(_warehouse_blocks)] = Field(
        default_factory=list
    )


class IPVendor(_IPModel):
    id: Id
    name: str | None = None
    display_name: str | None = None
    email: str | None = None
    currency: str | None = None
    lead_time: Num = None
    removed: Flag = None


class IPWebhook(_IPModel):
    id: Id
    address: str
    topic: str | None = None
    fields: str | None = None


# --- batch parsing -----------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RecordError:
    """One record IP sent that we could not use; `raw` keeps the evidence for an exception."""

    index: int
    kind: Literal["not_an_object", "invalid", "unmapped_status"]
    message: str
    record_id: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    raw: Any = None


@dataclass
class Parsed(Generic[M]):
    good: list[M] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    def add(self, item: M | RecordError) -> None:
        if isinstance(item, RecordError):
            self.errors.append(item)
        else:
            self.good.append(item)

    def extend(self, other: Parsed[M]) -> None:
        offset = len(self.good) + len(self.errors)
        self.good.extend(other.good)
        self.errors.extend(_shift(error, offset) for error in other.errors)


def _shift(error: RecordError, offset: int) -> RecordError:
    return RecordError(error.index + offset, error.kind, error.message, error.record_id, error.details,
                       error.raw)


def _record_id(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, Mapping) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _error_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()]


def parse_one(model: type[M], raw: Any, index: int = 0) -> M | RecordError:
    if not isinstance(raw, Mapping):
        return RecordError(index, "not_an_object", f"record is a {type(raw).__name__}, not an object",
                           raw=raw)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        details = _error_details(exc)
        message = "; ".join(f"{d['loc']}: {d['msg']}" for d in details)
        return RecordError(index, "invalid", message, _record_id(raw), details, raw)


def parse_records(model: type[M], raws: Iterable[Any]) -> Parsed[M]:
    result: Parsed[M] = Parsed()
    for index, raw in enumerate(raws):
        result.add(parse_one(model, raw, index))
    return result


def parse_purchase_orders(raws: Iterable[Any], statuses: StatusMap | None = None) -> Parsed[IPPurchaseOrder]:
    """Parse a batch of POs; with `statuses`, a PO whose status has no type is an error too."""
    result: Parsed[IPPurchaseOrder] = Parsed()
    for index, raw in enumerate(raws):
        parsed = parse_one(IPPurchaseOrder, raw, index)
        if isinstance(parsed, IPPurchaseOrder) and statuses and not statuses.classify(parsed.status).mapped:
            parsed = RecordError(index, "unmapped_status", f"status {parsed.status!r} has no configured type",
                                 parsed.id, raw=raw)
        result.add(parsed)
    return result

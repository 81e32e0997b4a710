"""Bulk import: parse JSON or CSV into raw rows and validate each row on its own.

Cross-row rules (duplicate keys in the file, the many-to-one warehouse rule against the file and
the existing rows) are checked by the service, which sees the database.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from app.errors import BadRequest, PayloadTooLarge, Unprocessable
from app.mappings.schemas import RowError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")


@dataclass
class ParsedRow:
    number: int
    raw: dict[str, Any]
    model: BaseModel | None = None
    errors: list[RowError] = field(default_factory=list)


def parse(body: bytes, content_type: str, filename: str | None = None) -> list[dict[str, Any]]:
    if len(body) > MAX_BYTES:
        raise PayloadTooLarge(f"Import files are limited to {MAX_BYTES // (1024 * 1024)} MB.")
    media = content_type.split(";")[0].strip().lower()
    if filename:
        media = "application/json" if filename.lower().endswith(".json") else "text/csv"
    if media == "application/json" or media.endswith("+json"):
        rows = parse_json(body)
    elif media in CSV_TYPES:
        rows = parse_csv(body)
    else:
        raise BadRequest(f"Send the rows as application/json, text/csv or a multipart file upload, "
                         f"not {media or 'an untyped body'}.")
    if len(rows) > MAX_ROWS:
        raise PayloadTooLarge(f"An import holds at most {MAX_ROWS} rows; split the file.")
    return rows


def parse_json(body: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable(f"The body is not valid JSON: {exc}.")
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list):
        raise Unprocessable("Send a JSON array of rows (or {\"rows\": [...]}).")
    return [row if isinstance(row, dict) else {"__not_an_object__": row} for row in data]


def parse_csv(body: bytes) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8-sig")  # Excel prefixes a BOM
    except UnicodeDecodeError:
        raise Unprocessable("The CSV is not UTF-8; export it from your spreadsheet as CSV UTF-8.")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise Unprocessable("The CSV has no header row.")
    rows = []
    for record in reader:
        values = {(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in record.items()}
        if not any(values.values()):
            continue  # blank lines at the end of spreadsheets
        # An empty cell means "not given": the default on create, the current value on update.
        rows.append({k: v for k, v in values.items() if v not in ("", None)})
    return rows


def validate(schema: type[BaseModel], rows: Sequence[dict[str, Any]]) -> list[ParsedRow]:
    parsed = []
    for number, raw in enumerate(rows, start=1):
        row = ParsedRow(number=number, raw=raw)
        if "__not_an_object__" in raw:
            row.errors.append(RowError(field=None, message="each row must be a JSON object"))
        else:
            try:
                row.model = schema.model_validate(raw)
            except ValidationError as exc:
                row.errors.extend(_errors(exc))
        parsed.append(row)
    return parsed


def _errors(exc: ValidationError) -> list[RowError]:
    return [RowError(field=".".join(str(p) for p in error["loc"]) or None,
                     message=error["msg"].removeprefix("Value error, "))
            for error in exc.errors()]


def to_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """The export format `parse_csv` reads back: booleans as true/false, None as an empty cell."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

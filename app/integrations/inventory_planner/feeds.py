"""CSV feed files for Inventory Planner: Advanced CSV writers, the validator, the Starter snapshot.

Pure and IO-light: functions take rows (mappings keyed by column name) and paths, and return
descriptions of what they wrote (sha256, row count). Delivery (sftp.py) and serving (the API) are
separate. A file IP would skip is never produced: the writer formats through the spec and
`validate_file` re-reads every file before anyone may ship it (§2.2 "the file will not import").
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import format_datetime
from pathlib import Path
from typing import IO, Any

from app.integrations.inventory_planner.csv_specs import (
    BOOLEANS,
    DATE_RE,
    FLOAT_RE,
    SPECS,
    STARTER_PRODUCTS,
    TIMESTAMP_RE,
    Column,
    ColumnType,
    Entity,
    FileSpec,
)
from app.integrations.inventory_planner.errors import FeedValidationError
from app.kit.time import utcnow

Row = Mapping[str, Any]
LINE_TERMINATOR = "\n"
_seq = itertools.count(1)


# --- cell formatting ----------------------------------------------------------------------------


def format_float(value: Any) -> str:
    """Plain decimal notation: `1e-07` or `1E+3` would not parse as IP's FLOAT."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}")
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def format_timestamp(value: datetime) -> str:
    """TIMESTAMP_NTZ (§2.2): no zone in the text, so always UTC; naive input is refused."""
    if not isinstance(value, datetime):
        raise ValueError(f"not a datetime: {value!r}")
    if value.tzinfo is None:
        raise ValueError("naive datetime: b1bridge only writes aware UTC times")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_date(value: date) -> str:
    if isinstance(value, datetime):
        return format_timestamp(value)[:10]
    if not isinstance(value, date):
        raise ValueError(f"not a date: {value!r}")
    return value.isoformat()


def format_bool(value: Any) -> str:
    if not isinstance(value, bool):
        raise ValueError(f"not a boolean: {value!r}")
    return "true" if value else "false"


def format_string(value: Any) -> str:
    text = str(value)
    if "\x00" in text:
        raise ValueError("NUL character in text")
    return text


def plain_text(text: str) -> bool:
    """A text any free-text column without choices takes as it is, whether written or checked
    (non-blank, no NUL): the fast path of the bulk writer and of the validator."""
    return bool(text) and "\x00" not in text and not text.isspace()


_FORMATTERS = {
    ColumnType.string: format_string,
    ColumnType.float: format_float,
    ColumnType.boolean: format_bool,
    ColumnType.timestamp: format_timestamp,
    ColumnType.date: format_date,
}


def format_cell(column: Column, value: Any) -> str:
    if value is None or value == "":
        if not column.nullable:
            raise ValueError(f"{column.name} is required")
        return ""
    text = _FORMATTERS[column.type](value)
    if column.choices and text not in column.choices:
        raise ValueError(f"{column.name}={text!r} is not one of {', '.join(column.choices)}")
    if not column.nullable and not text.strip():
        raise ValueError(f"{column.name} is required")
    return text


def format_row(spec: FileSpec, header: tuple[str, ...], row: Row, line: int) -> list[str]:
    unknown = set(row) - set(header)
    if unknown:
        raise FeedValidationError(f"{spec.name} row {line}: columns not in the header: {sorted(unknown)}")
    try:
        return [format_cell(spec.column(name), row.get(name)) for name in header]
    except ValueError as exc:
        raise FeedValidationError(f"{spec.name} row {line}: {exc}")


# --- cell checking (the validator's grammar) ------------------------------------------------------


def cell_problem(column: Column, text: str) -> str | None:
    if text == "":
        return None if column.nullable else "required value is empty"
    if not _CHECKS[column.type](column, text):
        return f"{text!r} is not a valid {column.type.value}"
    if column.choices and text not in column.choices:
        return f"{text!r} is not one of {', '.join(column.choices)}"
    return None


def _is_timestamp(_: Column, text: str) -> bool:
    return _parses(text, TIMESTAMP_RE, datetime.fromisoformat)


def _is_date(_: Column, text: str) -> bool:
    return _parses(text, DATE_RE, date.fromisoformat)


def _parses(text: str, pattern: re.Pattern[str], parse: Callable[[str], object]) -> bool:
    # The pattern pins the exact layout; the (C-level) ISO parser then rejects impossible values
    # such as month 13. strptime did the same ~20x slower, and the validator reads every cell.
    if not pattern.match(text):
        return False
    try:
        parse(text)
    except ValueError:
        return False
    return True


_CHECKS: dict[ColumnType, Callable[[Column, str], bool]] = {
    ColumnType.float: lambda _, t: FLOAT_RE.match(t) is not None,
    ColumnType.boolean: lambda _, t: t in BOOLEANS,
    ColumnType.timestamp: _is_timestamp,
    ColumnType.date: _is_date,
    ColumnType.string: lambda c, t: "\x00" not in t and (c.nullable or bool(t.strip())),
}


# --- writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedFile:
    """A finished, validated CSV file; what a delivery log records."""

    path: Path
    entity: str
    rows: int
    sha256: str
    size: int


class _HashingWriter:
    """Text sink that writes UTF-8 to a binary file and hashes exactly the bytes written."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.digest.update(data)
        self.raw.write(data)
        self.size += len(data)
        return len(text)


def write_rows(
    sink: IO[bytes], spec: FileSpec, rows: Iterable[Row], *, optional: tuple[str, ...] | list[str] = (),
) -> tuple[int, str, int]:
    """Stream `rows` as CSV into `sink`; returns (row count, sha256, bytes). Raises on a bad row."""
    header = spec.header(optional)
    out = _HashingWriter(sink)
    writer = csv.writer(out, lineterminator=LINE_TERMINATOR)
    writer.writerow(header)
    count = 0
    for count, row in enumerate(rows, start=1):
        writer.writerow(format_row(spec, header, row, count))
    return count, out.digest.hexdigest(), out.size


Optional = tuple[str, ...] | list[str]


def render_feed(entity: Entity | str, rows: Iterable[Row], *, optional: Optional = ()) -> bytes:
    buffer = io.BytesIO()
    write_rows(buffer, SPECS[Entity(entity)], rows, optional=optional)
    return buffer.getvalue()


def write_feed(
    path: Path, entity: Entity | str, rows: Iterable[Row], *, optional: tuple[str, ...] | list[str] = (),
) -> FeedFile:
    """Write an Advanced CSV file atomically (tmp + rename), then validate what landed on disk."""
    spec = SPECS[Entity(entity)]
    count, digest, size = atomic_write(path, lambda sink: write_rows(sink, spec, rows, optional=optional))
    validate_file(path, entity).raise_for_errors()
    return FeedFile(path, Entity(entity).value, count, digest, size)


def atomic_write(path: Path, produce: Any) -> Any:
    """Run `produce(binary_sink)` into a hidden temp file next to `path`, fsync, `os.replace`.

    On any exception the temp file is removed and `path` is left exactly as it was, so a reader
    (IP fetching the Starter URL, or the SFTP uploader) never sees a partial file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as sink:
            result = produce(sink)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return result


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable (POSIX); not possible on every platform, hence best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def feed_file_name(entity: Entity | str, at: datetime | None = None, seq: int | None = None) -> str:
    """`variant-warehouses_20261204T150102_123456Z_000001.csv`: unique, sorts oldest first (§2.2).

    Fixed-width UTC fields make lexical order chronological; `seq` breaks ties within a microsecond
    and keeps two files from ever sharing a name (IP keeps only the newest of same-named files).
    """
    moment = (at or utcnow()).astimezone(UTC)
    number = next(_seq) if seq is None else seq
    return f"{Entity(entity).value}_{moment:%Y%m%dT%H%M%S}_{moment:%f}Z_{number:06d}.csv"


# --- validation ---------------------------------------------------------------------------------


@dataclass
class ValidationReport:
    entity: str
    rows: int = 0
    sha256: str = ""
    size: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_errors(self) -> ValidationReport:
        if self.problems:
            shown = "; ".join(self.problems[:5])
            raise FeedValidationError(f"{self.entity} file would be skipped by Inventory Planner: {shown}",
                                      errors=[{"problem": p} for p in self.problems[:100]])
        return self


def validate_file(
    source: Path | str | bytes, entity: Entity | str, *, max_problems: int = 100
) -> ValidationReport:
    """Re-read a produced file and check it the way IP would: header, then every row's cells.

    A path is streamed (hashed in chunks, then parsed line by line): a full run's stock file is
    tens of MB, and holding it whole — bytes, text and a StringIO copy — was most of the run's
    peak memory."""
    spec = STARTER_PRODUCTS if entity == "starter" else SPECS[Entity(entity)]
    if isinstance(source, bytes):
        report = ValidationReport(spec.folder, sha256=hashlib.sha256(source).hexdigest(), size=len(source))
        _check_text(spec, lambda: io.StringIO(source.decode("utf-8"), newline=""), report, max_problems)
        return report
    path, digest, size = Path(source), hashlib.sha256(), 0
    with path.open("rb") as raw:
        while chunk := raw.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    report = ValidationReport(spec.folder, sha256=digest.hexdigest(), size=size)
    _check_text(spec, lambda: path.open(encoding="utf-8", newline=""), report, max_problems)
    return report


def _check_text(
    spec: FileSpec, opener: Callable[[], IO[str]], report: ValidationReport, max_problems: int
) -> None:
    try:
        with opener() as text:
            if text.read(1) == "\ufeff":
                report.problems.append("file starts with a byte-order mark")
            text.seek(0)
            _check_rows(spec, csv.reader(text), report, max_problems)
    except UnicodeDecodeError:
        report.rows, report.problems = 0, ["file is not UTF-8"]


def _check_rows(
    spec: FileSpec, reader: Iterator[list[str]], report: ValidationReport, max_problems: int
) -> None:
    header = next(reader, None)
    if not header:
        report.problems.append("file is empty (no header)")
        return
    report.problems.extend(spec.header_problems(header))
    if report.problems:
        return
    checks = [_cell_check(spec.column(name)) for name in header]
    width, line = len(checks), 0
    for line, cells in enumerate(reader, start=1):
        if len(report.problems) >= max_problems:
            continue
        if len(cells) != width:
            report.problems.append(f"row {line}: {len(cells)} cells for {width} columns")
            continue
        for check, text in zip(checks, cells, strict=True):
            if (problem := check(text)) is not None:
                report.problems.append(f"row {line}: {problem}")
    report.rows = line


def _cell_check(column: Column) -> Callable[[str], str | None]:
    """`cell_problem` for one column, prefixed with its name. A full run's files are ~400k rows
    whose timestamps, quantities and flags repeat: all but free text is judged once per distinct
    text; free text takes a fast path for the common case (non-blank, no NUL, no choices)."""
    def slow(text: str) -> str | None:
        problem = cell_problem(column, text)
        return f"{column.name}: {problem}" if problem else None

    if column.type == ColumnType.string:
        plain = not column.choices

        def check_text(text: str) -> str | None:
            return None if plain and plain_text(text) else slow(text)

        return check_text
    memo: dict[str, str | None] = {}

    def check(text: str) -> str | None:
        try:
            return memo[text]
        except KeyError:
            if len(memo) >= 4096:
                memo.clear()
            found = memo[text] = slow(text)
            return found

    return check


# --- Starter CSV (§2.1) -------------------------------------------------------------------------


@dataclass(frozen=True)
class StarterFile:
    """The products file currently served for one connector, with its HTTP validators."""

    path: Path
    rows: int
    sha256: str
    size: int
    last_modified: datetime

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'

    @property
    def last_modified_http(self) -> str:
        return format_datetime(self.last_modified.astimezone(UTC), usegmt=True)

    def not_modified(self, if_none_match: str | None, if_modified_since: str | None = None) -> bool:
        """Conditional GET/HEAD (RFC 9110 §13.1): If-None-Match wins over If-Modified-Since."""
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or self.etag in tags
        return bool(if_modified_since) and if_modified_since == self.last_modified_http


def build_starter_products(
    path: Path, rows: Iterable[Row], *, optional: tuple[str, ...] | list[str] = (),
    allow_empty: bool = False,
) -> StarterFile:
    """Publish a full products snapshot at `path` atomically (§2.1, §2.4).

    A product missing from the file is *deleted* in IP, so: every row is written and validated
    before the swap, an exception anywhere keeps the previous file, and an empty snapshot (which
    would delete everything) is refused unless `allow_empty`.
    """
    def produce(sink: IO[bytes]) -> tuple[int, str, int]:
        count, digest, size = write_rows(sink, STARTER_PRODUCTS, rows, optional=optional)
        if count == 0 and not allow_empty:
            raise FeedValidationError("refusing to publish an empty Starter snapshot: IP would delete "
                                      "every product of the connector")
        sink.flush()
        _validate_open_file(sink)
        return count, digest, size

    count, digest, size = atomic_write(path, produce)
    return StarterFile(path, count, digest, size, _mtime(path))


def _validate_open_file(sink: IO[bytes]) -> None:
    with open(sink.name, "rb") as check:  # re-read what is on disk, not what we meant to write
        validate_file(check.read(), "starter").raise_for_errors()


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(int(path.stat().st_mtime), UTC)


def current_starter_file(path: Path) -> StarterFile | None:
    """The file being served at `path` (for a restarted process), or None when none was published."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    report = validate_file(data, "starter")
    return StarterFile(path, report.rows, report.sha256, report.size, _mtime(path))


def starter_path(root: Path, connector: str) -> Path:
    """`<root>/<connector>/products.csv`: the one "current" file per connector (= IP warehouse)."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", connector) or connector in (".", ".."):
        raise ValueError(f"unsafe connector name {connector!r}")
    return root / connector / "products.csv"

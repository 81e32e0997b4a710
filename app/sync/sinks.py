"""Where a run's CSV rows go: spool files (validated and queued at the end) or, for --dry-run, a
counter that keeps a sample to print. Rows are appended as pages stream in, so no run ever holds a
whole file in memory."""

from __future__ import annotations

import csv
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from app.integrations.inventory_planner import feeds
from app.integrations.inventory_planner.csv_specs import DELIVERY_ORDER, SPECS, Column, ColumnType, Entity
from app.integrations.inventory_planner.errors import FeedValidationError

_MEMO_SIZE = 8_192  # bounded: it is cleared when full, and a big memo is a big share of peak RSS
RowAdder = Callable[[Sequence[Any]], None]


class Spool:
    """One Advanced CSV file being written row by row under a hidden temp name."""

    def __init__(self, folder: Path, entity: Entity) -> None:
        self.entity = entity
        self.spec = SPECS[entity]
        self.header = self.spec.header()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.tmp = folder / f".{entity.value}.{uuid.uuid4().hex}.tmp"
        self._raw: IO[str] = open(self.tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._writer = csv.writer(self._raw, lineterminator=feeds.LINE_TERMINATOR)
        self._writer.writerow(self.header)
        self.rows = 0

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        self._writer.writerow(feeds.format_row(self.spec, self.header, row, self.rows))

    def adder(self, columns: Sequence[str]) -> RowAdder:
        """`add` for rows given as tuples in header order: what a full run writes ~400k times.

        Each cell is formatted by its column's own function, and cells of every type but free text
        are remembered by value (UPDATED_AT is the run's clock, quantities repeat): formatting
        through format_row was a fifth of a first full run. Any problem goes through format_row
        itself, so the error raised is exactly the writer's."""
        if tuple(columns) != self.header:
            raise ValueError(f"{self.spec.name}: rows must come in header order {self.header}")
        formatters = [_formatter(self.spec.column(name)) for name in self.header]
        writerow = self._writer.writerow

        def add(values: Sequence[Any]) -> None:
            self.rows += 1
            try:
                row = [f(v) for f, v in zip(formatters, values, strict=True)]
            except (ValueError, TypeError) as exc:
                feeds.format_row(self.spec, self.header, dict(zip(columns, values, strict=False)), self.rows)
                raise FeedValidationError(f"{self.spec.name} row {self.rows}: {exc}") from exc
            writerow(row)

        return add

    def finish(self) -> feeds.FeedFile | None:
        """Rename into place and re-validate what is on disk; an empty file is not a file."""
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        if not self.rows:
            self.tmp.unlink(missing_ok=True)
            return None
        # Named when finished, in delivery order, so names sort the way IP must process them.
        path = self.folder / feeds.feed_file_name(self.entity)
        os.replace(self.tmp, path)
        report = feeds.validate_file(path, self.entity).raise_for_errors()
        return feeds.FeedFile(path, self.entity.value, report.rows, report.sha256, report.size)

    def discard(self) -> None:
        if not self._raw.closed:
            self._raw.close()
        self.tmp.unlink(missing_ok=True)


@dataclass
class Sinks:
    """Spools per entity, opened on first row. `folder=None` is a dry run: count and sample only."""

    folder: Path | None
    sample_size: int = 20
    spools: dict[Entity, Spool] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, entity: Entity, row: Mapping[str, Any]) -> None:
        self.counts[entity.value] += 1
        if len(self.samples[entity.value]) < self.sample_size:
            self.samples[entity.value].append(dict(row))
        if self.folder is not None:
            self._spool(entity).add(row)

    def adder(self, entity: Entity, columns: Sequence[str]) -> RowAdder:
        """`add` for rows given as tuples in `columns` order (the file's header order), counted and
        sampled the same way."""
        name, spooled = entity.value, None

        def add(values: Sequence[Any]) -> None:
            nonlocal spooled
            self.counts[name] += 1
            if self.counts[name] <= self.sample_size:
                self.samples[name].append(dict(zip(columns, values, strict=True)))
            if self.folder is not None:
                if spooled is None:
                    spooled = self._spool(entity).adder(columns)
                spooled(values)

        return add

    def _spool(self, entity: Entity) -> Spool:
        if entity not in self.spools:
            assert self.folder is not None
            self.spools[entity] = Spool(self.folder, entity)
        return self.spools[entity]

    def finish(self) -> list[feeds.FeedFile]:
        """Finished files in delivery order (warehouses, variants, then variant-warehouses...)."""
        done = [self.spools[e].finish() for e in DELIVERY_ORDER if e in self.spools]
        self.spools.clear()
        return [f for f in done if f is not None]

    def discard(self) -> None:
        for spool in self.spools.values():
            spool.discard()
        self.spools.clear()


def _formatter(column: Column) -> Callable[[Any], str]:
    """feeds.format_cell for one column; for all but free text, remembered per value of the type
    the column expects (by type too: True == 1.0, and a bool is no number)."""
    if column.type == ColumnType.string:
        plain = not column.choices

        def format_text(value: Any) -> str:
            if plain and type(value) is str and feeds.plain_text(value):
                return value  # what format_cell would answer
            return feeds.format_cell(column, value)

        return format_text
    expected = _EXPECTED[column.type]
    memo: dict[Any, str] = {}

    def format_cell(value: Any) -> str:
        if type(value) is not expected:
            return feeds.format_cell(column, value)
        text = memo.get(value)
        if text is None:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            text = memo[value] = feeds.format_cell(column, value)
        return text

    return format_cell


_EXPECTED: dict[ColumnType, type] = {
    ColumnType.float: float,
    ColumnType.boolean: bool,
    ColumnType.timestamp: datetime,
    ColumnType.date: date,
}

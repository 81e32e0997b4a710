"""Where a run's CSV rows go: spool files (validated and queued at the end) or, for --dry-run, a
counter that keeps a sample to print. Rows are appended as pages stream in, so no run ever holds a
whole file in memory."""

from __future__ import annotations

import csv
import os
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from app.integrations.inventory_planner import feeds
from app.integrations.inventory_planner.csv_specs import DELIVERY_ORDER, SPECS, ColumnType, Entity

# Strings are mostly distinct (SKUs, titles): memoising them would only fill the memo.
_FREE_TEXT = frozenset({ColumnType.string})
_MEMO_SIZE = 8_192  # bounded: it is cleared when full, and a big memo is a big share of peak RSS


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
        self._names = frozenset(self.header)
        self._columns = [(name, self.spec.column(name)) for name in self.header]
        self._memo: dict[tuple[int, type, Any], str] = {}

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        self._writer.writerow(self._format(row))

    def _format(self, row: Mapping[str, Any]) -> list[str]:
        """`feeds.format_row`, minus the per-cell column lookup and with repeated values formatted
        once: a full run writes ~400k rows whose timestamps and quantities repeat (UPDATED_AT is the
        run's clock), and formatting was a fifth of its time. Cells are pure functions of (column,
        value) and only successes are remembered (keyed by type too: True == 1.0); any problem goes
        through format_row itself, so the error raised is exactly the writer's."""
        if not self._names.issuperset(row):
            return feeds.format_row(self.spec, self.header, row, self.rows)
        memo, cells = self._memo, []
        try:
            for index, (name, column) in enumerate(self._columns):
                value = row.get(name)
                if column.type in _FREE_TEXT:
                    cells.append(feeds.format_cell(column, value))
                    continue
                key = (index, type(value), value)
                text = memo.get(key)
                if text is None:
                    text = memo[key] = feeds.format_cell(column, value)
                cells.append(text)
        except (ValueError, TypeError):
            return feeds.format_row(self.spec, self.header, row, self.rows)
        finally:
            if len(memo) > _MEMO_SIZE:
                memo.clear()
        return cells

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
        if self.folder is None:
            return
        if entity not in self.spools:
            self.spools[entity] = Spool(self.folder, entity)
        self.spools[entity].add(row)

    def finish(self) -> list[feeds.FeedFile]:
        """Finished files in delivery order (warehouses, variants, then variant-warehouses...)."""
        done = [self.spools[e].finish() for e in DELIVERY_ORDER if e in self.spools]
        self.spools.clear()
        return [f for f in done if f is not None]

    def discard(self) -> None:
        for spool in self.spools.values():
            spool.discard()
        self.spools.clear()

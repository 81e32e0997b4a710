"""One entity set in memory: rows by key, a key-ordered list, and caches invalidated on write.

Paging a 100k-item set must stay O(page): the key list is kept sorted (bisect on insert), matched
key lists are cached per (filter, orderby) until the set's version changes, and each row's JSON is
cached per dialect until that row is written.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
from collections import OrderedDict
from typing import Any

from app.emulators.sap_b1.schema import EntityType

Row = dict[str, Any]
_QUERY_CACHE_SIZE = 16


@functools.lru_cache(maxsize=4096)
def _etag(data_version: object) -> str:
    return 'W/"' + hashlib.sha1(str(data_version).encode()).hexdigest() + '"'


def etag_of(row: Row) -> str:
    """Weak ETag = SHA1 of DataVersion (reference §7, LOG etag-guide)."""
    return _etag(row.get("DataVersion", 0))


class EntityTable:
    def __init__(self, etype: EntityType) -> None:
        self.etype = etype
        self.rows: dict[Any, Row] = {}
        self.keys: list[Any] = []
        self.private_keys = etype.key.startswith("_")
        self.version = 0  # bumped on every write: live offsets, never a snapshot (§5)
        self._json: dict[str, dict[Any, bytes]] = {"v1": {}, "v2": {}}
        self.query_cache: OrderedDict[tuple[Any, ...], tuple[int, list[Any]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.rows)

    def load(self, rows: list[Row]) -> None:
        """Bulk insert for seeding: one sort instead of n insorts."""
        key = self.etype.key
        for row in rows:
            self.rows[row[key]] = row
        self.keys = sorted(self.rows)
        self.version += 1

    def insert(self, row: Row) -> None:
        key = row[self.etype.key]
        if key not in self.rows:
            bisect.insort(self.keys, key)
        self.rows[key] = row
        self.touch(key)

    def delete(self, key: Any) -> None:
        self.rows.pop(key, None)
        index = bisect.bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key:
            del self.keys[index]
        self.touch(key)

    def touch(self, key: Any) -> None:
        """A row changed: drop its serialised form and every cached match list."""
        self.version += 1
        for cache in self._json.values():
            cache.pop(key, None)

    def get(self, key: Any) -> Row | None:
        return self.rows.get(key)

    def cached_matches(self, signature: tuple[Any, ...]) -> list[Any] | None:
        hit = self.query_cache.get(signature)
        if hit is None or hit[0] != self.version:
            return None
        self.query_cache.move_to_end(signature)
        return hit[1]

    def remember_matches(self, signature: tuple[Any, ...], keys: list[Any]) -> None:
        self.query_cache[signature] = (self.version, keys)
        while len(self.query_cache) > _QUERY_CACHE_SIZE:
            self.query_cache.popitem(last=False)

    def row_json(self, key: Any, version: str) -> bytes:
        """The full row as JSON, with its ETag annotation on ETag-enabled sets (§7)."""
        cache = self._json[version]
        data = cache.get(key)
        if data is None:
            data = json.dumps(self.annotated(self.rows[key], version), separators=(",", ":")).encode()
            cache[key] = data
        return data

    def annotated(self, row: Row, version: str, etag_row: Row | None = None) -> Row:
        # "_x" keys are emulator bookkeeping (only UDF rows have them: skip the copy elsewhere).
        public = {k: v for k, v in row.items() if not k.startswith("_")} if self.private_keys else row
        if not self.etype.etag:
            return public
        return {("odata.etag" if version == "v1" else "@odata.etag"): etag_of(etag_row or row), **public}

"""Which shard holds a document, from the router's routing table: the collection's shard key
(`config.collections`), its chunks with their ranges and shards (`config.chunks`), and the
database's primary shard for an unsharded collection (`config.databases`). Pure: the
backend reads those documents.

A mongos finds a document's shard the same way: the chunk whose range
[min, max) holds the document's shard key [srv:s/chunk_manager.cpp
ChunkManager::findIntersectingChunk; manual: reference/config-database ("config.chunks",
"config.collections", "config.databases")]. A query's reply does not say which shard
returned each document, and `$shardedDataDistribution` counts per shard, not per document.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bson import Binary, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp

HASHED = "hashed"  # what the column shows for a hashed key (see RoutingTable.shard_of)


@dataclass(frozen=True)
class Chunk:
    min: Mapping[str, Any]
    max: Mapping[str, Any]
    shard: str


@dataclass(frozen=True)
class RoutingTable:
    """One collection's place in the cluster: sharded (key and chunks) or on the primary."""

    key: Mapping[str, Any] = field(default_factory=dict)  # {} when unsharded
    chunks: tuple[Chunk, ...] = ()
    primary: str = ""

    def shard_of(self, doc: Mapping[str, Any]) -> str:
        """The shard holding `doc`; "" when the routing table does not say."""
        if not self.key:
            return self.primary
        if HASHED in self.key.values():
            # The chunks of a hashed key are ranges of the key's hash, which MongoDB
            # computes from the BSON element [srv:db/hasher.cpp BSONElementHasher::hash64];
            # the app does not compute it.
            return HASHED
        values = [key_value(doc, name) for name in self.key]
        for chunk in self.chunks:
            low, high = list(chunk.min.values()), list(chunk.max.values())
            if len(low) == len(high) == len(values):
                if compare_list(low, values) <= 0 and compare_list(values, high) < 0:
                    return chunk.shard
        return ""


def routing_table(
    ns: str,
    collections: Sequence[Mapping[str, Any]],
    chunks: Sequence[Mapping[str, Any]],
    databases: Sequence[Mapping[str, Any]],
) -> RoutingTable:
    """The routing table of `ns` from the config documents the router lists."""
    db = ns.partition(".")[0]
    primary = next((str(d.get("primary", "")) for d in databases if d.get("_id") == db), "")
    coll = next((c for c in collections if c.get("_id") == ns and not c.get("dropped")), None)
    if coll is None or not isinstance(coll.get("key"), Mapping):
        return RoutingTable(primary=primary)
    mine = [
        Chunk(c["min"], c["max"], str(c.get("shard", "")))
        for c in chunks
        if c.get("uuid") == coll.get("uuid")
        and isinstance(c.get("min"), Mapping)
        and isinstance(c.get("max"), Mapping)
    ]
    return RoutingTable(dict(coll["key"]), tuple(mine), primary)


def key_value(doc: Mapping[str, Any], path: str) -> Any:
    """A shard key field of `doc` (dotted); a missing one counts as null, as a mongos
    targets it [manual: core/sharding-shard-key ("Missing Shard Key Fields")]."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


# The BSON comparison order [manual: reference/bson-type-comparison-order].
def _rank(value: Any) -> int:
    if isinstance(value, MinKey):
        return 0
    if value is None:
        return 1
    if isinstance(value, bool):
        return 9
    if isinstance(value, int | float | Int64 | Decimal128):
        return 2
    if isinstance(value, str):
        return 3
    if isinstance(value, Mapping):
        return 4
    if isinstance(value, list | tuple):
        return 5
    if isinstance(value, bytes | Binary):
        return 6
    if isinstance(value, ObjectId):
        return 7
    if isinstance(value, datetime.datetime):
        return 10
    if isinstance(value, Timestamp):
        return 11
    if isinstance(value, Regex | re.Pattern):
        return 12
    if isinstance(value, MaxKey):
        return 13
    return 8


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 as MongoDB orders two values (strings by their UTF-8 bytes, the simple
    collation a shard key uses)."""
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra in (0, 1, 13):
        return 0
    if ra == 2:
        x = float(a.to_decimal()) if isinstance(a, Decimal128) else a
        y = float(b.to_decimal()) if isinstance(b, Decimal128) else b
        return (x > y) - (x < y)
    if ra == 3:
        x, y = a.encode(), b.encode()
        return (x > y) - (x < y)
    if ra == 4:
        return _compare_docs(a, b)
    if ra == 5:
        return compare_list(list(a), list(b))
    if ra == 6:
        x, y = bytes(a), bytes(b)
        return (len(x) > len(y)) - (len(x) < len(y)) or (x > y) - (x < y)
    if ra == 7:
        x, y = a.binary, b.binary
        return (x > y) - (x < y)
    if ra == 11:
        x, y = (a.time, a.inc), (b.time, b.inc)
        return (x > y) - (x < y)
    try:
        return (a > b) - (a < b)
    except TypeError:
        return 0


def compare_list(a: Sequence[Any], b: Sequence[Any]) -> int:
    for x, y in zip(a, b, strict=False):
        c = compare(x, y)
        if c:
            return c
    return (len(a) > len(b)) - (len(a) < len(b))


def _compare_docs(a: Mapping[str, Any], b: Mapping[str, Any]) -> int:
    """Field by field: the value's type, then the name, then the value."""
    for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=False):
        c = (_rank(va) > _rank(vb)) - (_rank(va) < _rank(vb))
        c = c or (ka.encode() > kb.encode()) - (ka.encode() < kb.encode()) or compare(va, vb)
        if c:
            return c
    return (len(a) > len(b)) - (len(a) < len(b))

"""Which shards a statement goes to: by shard key when the query pins it, else every shard
that owns a chunk of the collection [srv:s/shard_key_pattern.cpp extractShardKeyFromQuery;
s/chunk_manager_targeter.cpp ChunkManagerTargeter::_targetQuery]."""

from __future__ import annotations

from typing import Any

from ..engine import compare_values
from .catalog import ShardedCollection, compare_keys, hash_value

_MISSING = object()


def _equality(query: dict[str, Any], name: str) -> Any:
    """The value `query` pins `name` to by equality, or _MISSING."""
    if name not in query:
        return _MISSING
    cond = query[name]
    if isinstance(cond, dict):
        if len(cond) == 1 and "$eq" in cond:
            cond = cond["$eq"]
        elif any(k.startswith("$") for k in cond):
            return _MISSING
    if isinstance(cond, dict | list):
        return _MISSING  # an array or document equality may also match array elements
    return cond


def exact_key(coll: ShardedCollection, query: dict[str, Any]) -> tuple[Any, ...] | None:
    """The shard key tuple if the query fixes every shard key field by equality."""
    values = {}
    for name in coll.fields:
        value = _equality(query, name)
        if value is _MISSING:
            return None
        values[name] = value
    return coll.key_of(values)


def shards_for_query(coll: ShardedCollection, query: dict[str, Any] | None) -> list[str]:
    """The shards whose chunks can hold documents matching `query`."""
    query = query or {}
    key = exact_key(coll, query)
    if key is not None:
        return [coll.chunk_for(key).shard]
    first = coll.fields[0]
    cond = query.get(first)
    if isinstance(cond, dict) and "$in" in cond and isinstance(cond["$in"], list):
        if len(coll.fields) == 1 and not any(isinstance(v, dict | list) for v in cond["$in"]):
            out: list[str] = []
            for value in cond["$in"]:
                shard = coll.chunk_for(coll.key_of({first: value})).shard
                if shard not in out:
                    out.append(shard)
            return out
    if isinstance(cond, dict) and coll.hashed_field is None and set(cond) <= _RANGE_OPS:
        return _range_shards(coll, cond)
    return coll.shards()


_RANGE_OPS = {"$gt", "$gte", "$lt", "$lte"}


def _range_shards(coll: ShardedCollection, cond: dict[str, Any]) -> list[str]:
    """Shards of the chunks a range on the key's first field overlaps."""
    low = cond.get("$gte", cond.get("$gt"))
    high = cond.get("$lte", cond.get("$lt"))
    out: list[str] = []
    for chunk in coll.chunks:
        if high is not None and compare_values(chunk.min[0], high) > 0:
            continue
        if low is not None and compare_values(chunk.max[0], low) <= 0:
            continue
        if chunk.shard not in out:
            out.append(chunk.shard)
    return out


def shard_for_document(coll: ShardedCollection, doc: dict[str, Any]) -> str:
    return coll.chunk_for(coll.key_of(doc)).shard


def in_range(coll: ShardedCollection, doc: dict[str, Any], low: tuple, high: tuple) -> bool:
    key = coll.key_of(doc)
    return compare_keys(low, key) <= 0 and compare_keys(key, high) < 0


__all__ = ["exact_key", "hash_value", "shard_for_document", "shards_for_query"]

"""The cluster's administration at the router: enableSharding, shardCollection, split,
moveChunk / moveRange (moving the documents between shards), listShards and the few
informational commands mongosh's sh.status() runs [manual: "Sharding Commands"]."""

from __future__ import annotations

import time
from typing import Any

from bson.int64 import Int64

from ..errors import CommandError
from .catalog import Chunk, ShardedCollection, compare_keys
from .core import Call, raise_for
from .targeting import in_range


def _ns(call: Call, name: str) -> tuple[str, str]:
    ns = call.body.get(name)
    if not isinstance(ns, str) or "." not in ns:
        raise CommandError(73, f"Invalid namespace specified '{ns}'")
    db, _, coll = ns.partition(".")
    return db, coll


def _sharded(call: Call, name: str) -> ShardedCollection:
    db, coll = _ns(call, name)
    sharded = call.catalog.collections.get(f"{db}.{coll}")
    if sharded is None:
        raise CommandError(118, f"Collection {db}.{coll} is not sharded.")  # NamespaceNotSharded
    return sharded


async def enable_sharding(call: Call) -> dict[str, Any]:
    name = call.body.get("enableSharding")
    if not isinstance(name, str) or not name or name in ("admin", "config", "local"):
        raise CommandError(73, f"Invalid db name specified: {name}")
    wanted = call.body.get("primaryShard")
    if wanted is not None and wanted not in call.catalog.shards:
        raise CommandError(70, f"Shard {wanted} not found")  # ShardNotFound
    if wanted is not None and name not in call.catalog.databases:
        call.catalog.databases[name] = type(call.catalog.database(name))(name, wanted)
    call.catalog.database(name)
    return {"ok": 1.0}


def _index_name(key: dict[str, Any]) -> str:
    return "_".join(f"{k}_{v}" for k, v in key.items())


async def shard_collection(call: Call) -> dict[str, Any]:
    """Shard a collection by a range or hashed key. Its index is created where missing; an
    empty collection with a hashed key starts with chunks on every shard, any other starts
    with one chunk on the primary shard [manual: shardCollection, sh.shardCollection()]."""
    db, coll = _ns(call, "shardCollection")
    key = call.body.get("key")
    if not isinstance(key, dict) or not key:
        raise CommandError(2, "The shard key pattern must be a non-empty object")
    for name, kind in key.items():
        if kind not in (1, 1.0, "hashed") or isinstance(kind, bool):
            raise CommandError(2, f"Unsupported shard key pattern {key}: field {name}")
    ns = f"{db}.{coll}"
    existing = call.catalog.collections.get(ns)
    if existing is not None:
        if existing.key == key:
            return {"collectionsharded": ns, "ok": 1.0}
        raise CommandError(23, f"sharding already enabled for collection {ns}")
    primary = call.catalog.primary_shard(db)
    counted = await call.send(primary, {"count": coll}, db)
    empty = int(counted.get("n", 0)) == 0
    if key != {"_id": 1}:
        index = {"createIndexes": coll, "indexes": [{"key": key, "name": _index_name(key)}]}
        raise_for(await call.send(primary, index, db))
    for shard in call.catalog.shards:
        if shard != primary:
            created = await call.send(shard, {"create": coll}, db)
            if not created.get("ok") and created.get("code") != 48:
                raise_for(created)
            if key != {"_id": 1}:
                await call.send(shard, index, db)
    per_shard = call.body.get("numInitialChunks")
    unique = bool(call.body.get("unique", False))
    sharded = call.catalog.shard_collection(ns, key, unique, int(per_shard) if per_shard else None)
    if not empty and len(sharded.chunks) > 1:
        # A collection with documents keeps them: one chunk on its primary shard.
        sharded.chunks = [Chunk(sharded.chunks[0].min, sharded.chunks[-1].max, primary)]
    # The primary shard's oplog says so: change streams report it (showExpandedEvents).
    event = {"sandboxShardCollectionEvent": coll, "shardKey": key, "unique": unique}
    raise_for(await call.send(primary, event, db))
    return {"collectionsharded": ns, "ok": 1.0}


def _key_from(sharded: ShardedCollection, doc: Any, what: str, hashed_given: bool) -> tuple:
    """A shard key tuple from a key document; bounds of a hashed key are hash values."""
    if not isinstance(doc, dict) or set(doc) != set(sharded.fields):
        raise CommandError(2, f"{what} {doc} does not match the shard key {sharded.key}")
    if hashed_given:
        return tuple(doc[f] for f in sharded.fields)
    return sharded.key_of(doc)


async def split(call: Call) -> dict[str, Any]:
    sharded = _sharded(call, "split")
    middle = call.body.get("middle")
    if middle is None:
        raise CommandError(2, "split needs 'middle' (the sandbox splits at a given key only)")
    at = _key_from(sharded, middle, "middle", sharded.hashed_field is not None)
    call.catalog.split(sharded, at)
    return {"ok": 1.0}


async def move_chunk(call: Call) -> dict[str, Any]:
    """moveChunk: the chunk holding `find` (or with `bounds`) to shard `to`."""
    sharded = _sharded(call, "moveChunk")
    to = call.body.get("to")
    if "bounds" in call.body:
        bounds = call.body["bounds"]
        low = _key_from(sharded, bounds[0], "bounds", True)
        chunk = sharded.chunk_for(low)
    else:
        key = _key_from(sharded, call.body.get("find"), "find", False)
        chunk = sharded.chunk_for(key)
    return await _migrate(call, sharded, chunk, to)


async def move_range(call: Call) -> dict[str, Any]:
    """moveRange: [min, max) to `toShard`, splitting where the bounds fall inside a chunk."""
    sharded = _sharded(call, "moveRange")
    hashed = sharded.hashed_field is not None
    low = _key_from(sharded, call.body.get("min"), "min", hashed)
    chunk = sharded.chunk_for(low)
    if compare_keys(chunk.min, low) != 0:
        call.catalog.split(sharded, low)
        chunk = sharded.chunk_for(low)
    if call.body.get("max") is not None:
        high = _key_from(sharded, call.body["max"], "max", hashed)
        if compare_keys(high, chunk.max) < 0:
            call.catalog.split(sharded, high)
            chunk = sharded.chunk_for(low)
    return await _migrate(call, sharded, chunk, call.body.get("toShard"))


async def _migrate(call: Call, sharded: ShardedCollection, chunk: Chunk, to: Any) -> dict:
    """Copy the chunk's documents to the recipient, then delete them on the donor, then
    give the chunk to the recipient [srv:db/s/migration_source_manager.cpp: clone, commit
    the chunk's new owner, range deletion]."""
    if to not in call.catalog.shards:
        raise CommandError(70, f"Shard {to} not found")
    started = time.monotonic()
    donor = chunk.shard
    if donor != to:
        db, _, coll = sharded.ns.partition(".")
        docs = await _all_documents(call, donor, db, coll)
        moving = [d for d in docs if in_range(sharded, d, chunk.min, chunk.max)]
        if moving:
            # The shards' internal migration commands, not insert and delete: their writes
            # are fromMigrate, which change streams skip (commands/migration.py).
            clone = {"sandboxMigrateClone": coll, "documents": moving}
            raise_for(await call.send(to, clone, db))
            ids = [d["_id"] for d in moving]
            raise_for(await call.send(donor, {"sandboxRangeDeletion": coll, "ids": ids}, db))
        sharded.major += 1
        chunk.version = sharded.major
        chunk.shard = to
    return {"millis": Int64(int((time.monotonic() - started) * 1000)), "ok": 1.0}


async def _all_documents(call: Call, shard: str, db: str, coll: str) -> list[dict[str, Any]]:
    reply = await call.send(shard, {"find": coll, "batchSize": 1_000_000}, db)
    raise_for(reply)
    docs = list(reply["cursor"]["firstBatch"])
    cid = reply["cursor"]["id"]
    while cid:
        more = await call.send(shard, {"getMore": cid, "collection": coll}, db)
        raise_for(more)
        docs.extend(more["cursor"]["nextBatch"])
        cid = more["cursor"]["id"]
    return docs


async def list_shards(call: Call) -> dict[str, Any]:
    return {"shards": call.catalog.config_documents("shards"), "ok": 1.0}


async def balancer_status(call: Call) -> dict[str, Any]:
    # The sandbox has no balancer: chunks move only when asked (moveChunk / moveRange).
    return {"mode": "off", "inBalancerRound": False, "numBalancerRounds": Int64(0), "ok": 1.0}

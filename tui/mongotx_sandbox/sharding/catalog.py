"""The config server's catalog: shards, databases and their primary shard, sharded
collections with their shard key, and chunks (key ranges and the shard owning each).

Documents are shaped as the config database holds them, so `config.shards`, `.databases`,
`.collections` and `.chunks` can be read as mongosh's `sh.status()` reads them
[manual: "Config Database" (config.chunks, config.collections, config.databases,
config.shards)]."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from bson import encode
from bson.binary import Binary, UuidRepresentation
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.timestamp import Timestamp

from ..engine import compare_values
from ..errors import CommandError


def hash_value(value: Any) -> Int64:
    """A hashed shard key's value: a 64-bit hash of the BSON element. MongoDB hashes an MD5
    of the element's type and value [srv:db/hasher.cpp BSONElementHasher::hash64]; the
    sandbox's hash is also MD5-based and spreads keys alike, but its numbers differ (and
    numbers of equal value but different types hash differently here)."""
    digest = hashlib.md5(encode({"": value})[4:]).digest()
    return Int64(int.from_bytes(digest[:8], "little", signed=True))


def _uuid() -> Binary:
    return Binary.from_uuid(uuid.uuid4(), UuidRepresentation.STANDARD)


def compare_keys(a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    for x, y in zip(a, b, strict=True):
        c = compare_values(x, y)
        if c:
            return c
    return 0


@dataclass
class Chunk:
    min: tuple[Any, ...]
    max: tuple[Any, ...]
    shard: str
    id: ObjectId = field(default_factory=ObjectId)
    version: int = 1

    def holds(self, key: tuple[Any, ...]) -> bool:
        return compare_keys(self.min, key) <= 0 and compare_keys(key, self.max) < 0


@dataclass
class ShardedCollection:
    """One sharded collection: its key pattern and its chunks, sorted by `min`."""

    ns: str
    key: dict[str, Any]
    unique: bool
    uuid: Binary = field(default_factory=_uuid)
    epoch: ObjectId = field(default_factory=ObjectId)
    created: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    )
    chunks: list[Chunk] = field(default_factory=list)
    major: int = 1  # the collection version's major part, bumped by each migration

    @property
    def fields(self) -> list[str]:
        return list(self.key)

    @property
    def hashed_field(self) -> str | None:
        return next((f for f, v in self.key.items() if v == "hashed"), None)

    def key_of(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The shard key tuple from field values (a missing field is null, as the router
        targets a document without its shard key since 4.4 [manual: "Missing Shard Key
        Fields"]); a hashed field's value is its hash."""
        out = []
        for name, kind in self.key.items():
            value = values.get(name)
            out.append(hash_value(value) if kind == "hashed" else value)
        return tuple(out)

    def chunk_for(self, key: tuple[Any, ...]) -> Chunk:
        return next(c for c in self.chunks if c.holds(key))

    def shards(self) -> list[str]:
        seen: list[str] = []
        for c in self.chunks:
            if c.shard not in seen:
                seen.append(c.shard)
        return seen

    def key_doc(self, key: tuple[Any, ...]) -> dict[str, Any]:
        return dict(zip(self.fields, key, strict=True))


@dataclass
class Database:
    name: str
    primary: str
    uuid: Binary = field(default_factory=_uuid)


class Catalog:
    """The cluster's metadata, held by the router (the sandbox's config server)."""

    def __init__(self, shards: dict[str, str]) -> None:
        self.shards = shards  # name -> host:port of its primary
        self.databases: dict[str, Database] = {}
        self.collections: dict[str, ShardedCollection] = {}

    def database(self, name: str) -> Database:
        """The database's entry, created on first use. Its primary shard is the one with
        the least data [manual: "Primary Shard"]; the sandbox takes the first shard, so
        every database that was not given one (enableSharding's primaryShard) shares it
        and commands across databases (bulkWrite, $lookup) find their collections."""
        db = self.databases.get(name)
        if db is None:
            db = Database(name, next(iter(self.shards)))
            self.databases[name] = db
        return db

    def primary_shard(self, db: str) -> str:
        if db in ("admin", "config"):
            return next(iter(self.shards))
        return self.database(db).primary

    def shard_collection(
        self, ns: str, key: dict[str, Any], unique: bool, initial_per_shard: int | None
    ) -> ShardedCollection:
        db, _, _ = ns.partition(".")
        primary = self.primary_shard(db)
        coll = ShardedCollection(ns, key, unique)
        lows = tuple(MinKey() for _ in key)
        highs = tuple(MaxKey() for _ in key)
        hashed = coll.hashed_field
        if hashed is not None and len(key) == 1:
            # A hashed key starts with chunks spread over every shard: 2 per shard unless
            # numInitialChunks says otherwise [manual: sh.shardCollection(), "numInitialChunks"].
            names = list(self.shards)
            count = (initial_per_shard or 2) * len(names)
            span = 2**64 // count
            bounds: list[Any] = [MinKey()]
            bounds += [Int64(-(2**63) + span * i) for i in range(1, count)]
            bounds.append(MaxKey())
            for i in range(count):
                shard = names[i * len(names) // count]
                coll.chunks.append(Chunk((bounds[i],), (bounds[i + 1],), shard))
        else:
            coll.chunks.append(Chunk(lows, highs, primary))
        self.collections[ns] = coll
        return coll

    def split(self, coll: ShardedCollection, at: tuple[Any, ...]) -> None:
        chunk = coll.chunk_for(at)
        if compare_keys(chunk.min, at) == 0:
            raise CommandError(
                20, f"cannot split chunk {coll.key_doc(chunk.min)} at its own lower bound"
            )
        coll.chunks.insert(
            coll.chunks.index(chunk) + 1, Chunk(at, chunk.max, chunk.shard, version=coll.major)
        )
        chunk.max = at
        coll.major += 1

    def drop(self, ns: str) -> None:
        self.collections.pop(ns, None)

    # ---- the config database's documents ----

    def config_documents(self, name: str) -> list[dict[str, Any]]:
        if name == "shards":
            return [
                {"_id": n, "host": f"{n}/{h}", "state": 1, "topologyTime": Timestamp(1, 0)}
                for n, h in self.shards.items()
            ]
        if name == "databases":
            return [
                {
                    "_id": d.name,
                    "primary": d.primary,
                    "partitioned": True,
                    "version": {"uuid": d.uuid, "timestamp": Timestamp(1, 0), "lastMod": 1},
                }
                for d in self.databases.values()
            ]
        if name == "collections":
            return [
                {
                    "_id": c.ns,
                    "lastmodEpoch": c.epoch,
                    "lastmod": c.created,
                    "timestamp": Timestamp(int(c.created.timestamp()), 1),
                    "uuid": c.uuid,
                    "key": c.key,
                    "unique": c.unique,
                    "noBalance": False,
                }
                for c in self.collections.values()
            ]
        if name == "chunks":
            return [
                {
                    "_id": ch.id,
                    "uuid": c.uuid,
                    "min": c.key_doc(ch.min),
                    "max": c.key_doc(ch.max),
                    "shard": ch.shard,
                    "lastmod": Timestamp(ch.version, i),
                    "onCurrentShardSince": Timestamp(int(c.created.timestamp()), 1),
                    "history": [],
                }
                for c in self.collections.values()
                for i, ch in enumerate(c.chunks)
            ]
        if name == "version":
            return [{"_id": 1, "clusterId": ObjectId("000000000000000000000001")}]
        return []

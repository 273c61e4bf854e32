"""dbStats, collStats and validate: sizes and checks of what is committed (issue 17, D15).

The sandbox keeps documents in memory: a collection's `size` is the BSON size of its
documents, its `storageSize` that rounded up to whole 4 KiB pages, and each index is given
one page per 4 KiB of keys. None of them takes a lock, so a transaction never blocks them
(dbstats_not_blocked_by_txn.js: mongod's dbStats takes only intent locks).
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import bson
from bson.int64 import Int64

from ..access import OpContext
from ..errors import CommandError
from ..store import Collection, Index
from .common import coll_name
from .registry import command

_PAGE = 4096


def _scale(body: dict[str, Any]) -> int:
    """`scale` as mongod reads it [srv:db/stats/storage_stats.cpp
    appendCollectionStorageStats; db/commands/dbcommands.cpp CmdDbStats]."""
    value = body.get("scale")
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(2, "scale has to be a number >= 1")
    scale = int(value)
    if scale < 1:
        raise CommandError(2, "scale has to be >= 1")
    return scale


def _pages(size: int) -> int:
    return -(-size // _PAGE) * _PAGE if size else _PAGE


class _Sizes:
    """One collection's committed documents, measured."""

    def __init__(self, coll: Collection) -> None:
        docs = [d for _, d in coll.iter_committed(None)]
        self.count = len(docs)
        self.size = sum(len(bson.encode(d)) for d in docs)
        self.storage = _pages(self.size)
        # An index entry: its key (as BSON) and a record id, about 16 bytes more.
        self.index_sizes = {
            name: _pages(self.count * (16 + 8 * len(index.key)))
            for name, index in coll.indexes.items()
        }


@command("dbStats", "dbstats", reads=True)
async def db_stats(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """db.stats() [manual: dbStats; srv:db/commands/dbcommands.cpp CmdDbStats]."""
    scale = _scale(body)
    colls = [c for c in ctx.state.catalog.collections(ctx.db) if not c.is_view]
    views = [c for c in ctx.state.catalog.collections(ctx.db) if c.is_view]
    sizes = [_Sizes(c) for c in colls]
    objects = sum(s.count for s in sizes)
    data = sum(s.size for s in sizes)
    storage = sum(s.storage for s in sizes)
    index_size = sum(sum(s.index_sizes.values()) for s in sizes)
    disk = shutil.disk_usage(os.getcwd())
    return {
        "db": ctx.db,
        "collections": Int64(len(colls)),
        "views": Int64(len(views)),
        "objects": Int64(objects),
        "avgObjSize": data / objects if objects else 0.0,
        "dataSize": float(data // scale),
        "storageSize": float(storage // scale),
        "indexes": Int64(sum(len(c.indexes) for c in colls)),
        "indexSize": float(index_size // scale),
        "totalSize": float((storage + index_size) // scale),
        "scaleFactor": Int64(scale),
        # The file system the sandbox runs on, as mongod reports its dbpath's.
        "fsUsedSize": float(disk.used // scale),
        "fsTotalSize": float(disk.total // scale),
        "ok": 1.0,
    }


@command("collStats", "collstats", reads=True)
async def coll_stats(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """db.coll.stats(): the fields of [srv:db/stats/storage_stats.cpp
    appendCollectionStorageStats], without the storage engine's own section. A missing
    collection answers zeros (the command keeps NamespaceNotFound out of its reply)."""
    name = coll_name(body, "collStats")
    scale = _scale(body)
    coll = ctx.state.catalog.get(ctx.db, name)
    reply: dict[str, Any] = {"ns": f"{ctx.db}.{name}"}
    if coll is None or coll.is_view:
        if coll is not None:
            raise CommandError(166, f"Namespace {ctx.db}.{name} is a view, not a collection")
        reply.update(
            {
                "size": 0,
                "count": 0,
                "numOrphanDocs": 0,
                "storageSize": 0,
                "totalSize": 0,
                "nindexes": 0,
                "totalIndexSize": 0,
                "indexDetails": {},
                "indexSizes": {},
                "scaleFactor": scale,
                "ok": 1.0,
            }
        )
        return reply
    sizes = _Sizes(coll)
    index_total = sum(sizes.index_sizes.values())
    reply.update({"size": sizes.size // scale, "count": sizes.count, "numOrphanDocs": 0})
    if sizes.count:
        reply["avgObjSize"] = sizes.size // sizes.count
    reply.update(
        {
            "storageSize": sizes.storage // scale,
            "freeStorageSize": 0,
            "capped": bool(coll.options.get("capped")),
            "nindexes": len(coll.indexes),
            "indexDetails": {},
            "indexBuilds": [],
            "totalIndexSize": index_total // scale,
            "totalSize": (sizes.storage + index_total) // scale,
            "indexSizes": {n: s // scale for n, s in sizes.index_sizes.items()},
            "scaleFactor": scale,
            "ok": 1.0,
        }
    )
    return reply


def _keys(index: Index, doc: dict[str, Any]) -> dict[Any, Any]:
    """The keys `doc` gives `index`; a document the index cannot hold (parallel arrays in
    a compound key) gives none."""
    try:
        return index.keys(doc)
    except CommandError:
        return {}


@command("validate")
async def validate(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """validate: check every index against the documents [manual: validate; srv:db/
    commands/validate.cpp, db/catalog/validate_results.cpp]. The sandbox's indexes are
    derived from the documents, so the check counts keys per index and finds no error."""
    name = coll_name(body, "validate")
    coll = ctx.state.catalog.get(ctx.db, name)
    ns = f"{ctx.db}.{name}"
    if coll is None:
        raise CommandError(26, f"Collection '{ns}' does not exist to validate.")
    if coll.is_view:
        raise CommandError(166, f"Cannot validate a view: {ns}")
    docs = [d for _, d in coll.iter_committed(None)]
    keys = {
        index_name: sum(len(_keys(index, d)) for d in docs)
        for index_name, index in coll.indexes.items()
    }
    return {
        "ns": ns,
        "uuid": coll.uuid,
        "nInvalidDocuments": 0,
        "nNonCompliantDocuments": 0,
        "nrecords": len(docs),
        "nIndexes": len(coll.indexes),
        "keysPerIndex": keys,
        "indexDetails": {n: {"valid": True} for n in coll.indexes},
        "valid": True,
        "repaired": False,
        "warnings": [],
        "errors": [],
        "extraIndexEntries": [],
        "missingIndexEntries": [],
        "corruptRecords": [],
        "ok": 1.0,
    }

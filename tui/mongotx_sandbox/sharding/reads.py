"""Reads at the router: find, aggregate, count and distinct targeted by shard key or
broadcast, their results merged; getMore and killCursors on router cursors; the config
database answered from the catalog."""

from __future__ import annotations

import datetime
from typing import Any

from bson.int64 import Int64

from ..engine import (
    EngineError,
    apply_projection,
    canonical_key,
    compare_values,
    matches,
    run_pipeline,
    sort_documents,
)
from ..errors import CommandError
from .core import Call, raise_for
from .merge import RouterCursor, Stream
from .targeting import shards_for_query

# The stages a shard can run on its part of the documents, leaving the rest of the
# pipeline to the merge [srv:pipeline/sharded_agg_helpers.cpp splitPipeline: stages before
# the first one that needs every document run on the shards].
_SHARD_STAGES = frozenset(
    {
        "$match",
        "$project",
        "$addFields",
        "$set",
        "$unset",
        "$unwind",
        "$replaceRoot",
        "$replaceWith",
        "$redact",
    }
)
# Stages that read other collections or write: the sandbox router does not merge these
# across shards (MongoDB does, with their own distributed plans).
_NOT_MERGED = frozenset(
    {
        "$lookup",
        "$graphLookup",
        "$unionWith",
        "$out",
        "$merge",
        "$facet",
        "$geoNear",
        "$changeStream",
        "$collStats",
        "$indexStats",
        "$currentOp",
        "$listSessions",
        "$planCacheStats",
        "$search",
        "$documents",
    }
)


def _collection(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise CommandError(73, f"Invalid namespace specified '{value}'")
    return value


async def _register(call: Call, cursor: RouterCursor, first: list[dict[str, Any]]) -> dict:
    """The client's first reply: a router cursor id while documents remain."""
    cid = 0
    if not cursor.exhausted:
        cid = int(call.core.new_cursor_id())
        cursor.id = cid
        call.core.cursors[cid] = cursor
    else:
        await cursor.close(call)
    return {"cursor": {"firstBatch": first, "id": Int64(cid), "ns": cursor.ns}, "ok": 1.0}


def wrap_reply(call: Call, shard: str, reply: dict[str, Any]) -> dict[str, Any]:
    """A shard's cursor reply given back through a router cursor (its getMore comes here)."""
    cursor = reply.get("cursor")
    if not reply.get("ok") or not isinstance(cursor, dict) or not cursor.get("id"):
        return reply
    ns = str(cursor.get("ns", ""))
    rc = RouterCursor(ns, [Stream(shard, ns, int(cursor["id"]), [])])
    pipeline = call.body.get("pipeline")
    if isinstance(pipeline, list) and pipeline and isinstance(pipeline[0], dict):
        rc.extra["change_stream"] = "$changeStream" in pipeline[0]
    rc.id = int(call.core.new_cursor_id())
    call.core.cursors[rc.id] = rc
    cursor["id"] = Int64(rc.id)
    return reply


async def find(call: Call) -> dict[str, Any]:
    coll = _collection(call.body, "find")
    if call.db == "config":
        return await config_find(call, coll)
    sharded = call.sharded(coll)
    if sharded is None:
        shard = call.primary()
        return wrap_reply(call, shard, await call.send(shard, call.body))
    targets = shards_for_query(sharded, call.body.get("filter"))
    if len(targets) == 1:
        return wrap_reply(call, targets[0], await call.send(targets[0], call.body))
    body = dict(call.body)
    skip = int(body.pop("skip", 0) or 0)
    limit = int(body.get("limit", 0) or 0)
    single = bool(body.get("singleBatch")) or limit < 0
    limit = abs(limit)
    if limit:
        body["limit"] = limit + skip  # each shard returns at most what the merge may need
    batch_size = body.get("batchSize")
    body.pop("batchSize", None)
    sort = body.get("sort") or None
    projection = None
    if sort and body.get("projection"):
        projection = body.pop("projection")  # the merge needs the sort fields
    replies = await call.send_all(targets, body)
    ns = f"{call.db}.{coll}"
    streams = []
    for shard, reply in zip(targets, replies, strict=True):
        raise_for(reply)
        c = reply["cursor"]
        streams.append(Stream(shard, ns, int(c.get("id", 0)), list(c.get("firstBatch", []))))
    cursor = RouterCursor(ns, streams, sort, skip, limit, projection)
    first = await cursor.batch(call, int(batch_size) if batch_size is not None else 101)
    if single:
        await cursor.close(call)
        return {"cursor": {"firstBatch": first, "id": Int64(0), "ns": ns}, "ok": 1.0}
    return await _register(call, cursor, first)


async def get_more(call: Call) -> dict[str, Any]:
    cid = call.body.get("getMore")
    cursor: RouterCursor | None = call.core.cursors.get(int(cid)) if cid is not None else None
    if cursor is None:
        raise CommandError(43, f"cursor id {cid} not found")
    size = call.body.get("batchSize")
    if len(cursor.streams) == 1 and not cursor.sort and not cursor.skip and not cursor.limit:
        # One shard's cursor: its getMore passes through as is.
        s = cursor.streams[0]
        db, _, name = s.ns.partition(".")
        body = {"getMore": Int64(s.cursor_id), "collection": name}
        for key in ("batchSize", "maxTimeMS", "comment"):
            if key in call.body:
                body[key] = call.body[key]
        reply = await call.send(s.shard, body, db)
        if not reply.get("ok"):
            call.core.cursors.pop(cursor.id, None)
            return reply
        s.cursor_id = int(reply["cursor"].get("id", 0))
        reply["cursor"]["id"] = Int64(cursor.id if s.cursor_id else 0)
        if not s.cursor_id:
            call.core.cursors.pop(cursor.id, None)
        return reply
    docs = await cursor.batch(call, int(size) if size else None)
    cid_out = cursor.id
    if cursor.exhausted:
        call.core.cursors.pop(cursor.id, None)
        await cursor.close(call)
        cid_out = 0
    return {"cursor": {"nextBatch": docs, "id": Int64(cid_out), "ns": cursor.ns}, "ok": 1.0}


async def kill_cursors(call: Call) -> dict[str, Any]:
    killed, not_found = [], []
    for cid in call.body.get("cursors") or []:
        cursor = call.core.cursors.pop(int(cid), None)
        if cursor is None:
            not_found.append(cid)
            continue
        await cursor.close(call)
        killed.append(cid)
    return {
        "cursorsKilled": killed,
        "cursorsNotFound": not_found,
        "cursorsAlive": [],
        "cursorsUnknown": [],
        "ok": 1.0,
    }


async def aggregate(call: Call) -> dict[str, Any]:
    coll = call.body.get("aggregate")
    pipeline = call.body.get("pipeline") or []
    if call.db == "config" and isinstance(coll, str):
        docs = call.catalog.config_documents(coll)
        return await _local_cursor(call, coll, _run(docs, pipeline))
    if pipeline and isinstance(pipeline[0], dict) and "$currentOp" in pipeline[0]:
        return await _current_op(call, pipeline)
    if pipeline and isinstance(pipeline[0], dict):
        _refuse_migration_events(pipeline[0].get("$changeStream"))
    sharded = call.sharded(coll) if isinstance(coll, str) else None
    if sharded is None:
        shard = call.primary()
        return wrap_reply(call, shard, await call.send(shard, call.body))
    if pipeline and isinstance(pipeline[0], dict) and "$collStats" in pipeline[0]:
        return await _coll_stats(call, coll, pipeline)
    first = pipeline[0].get("$match") if pipeline and isinstance(pipeline[0], dict) else None
    targets = shards_for_query(sharded, first if isinstance(first, dict) else None)
    if len(targets) == 1 or call.body.get("explain"):
        return wrap_reply(call, targets[0], await call.send(targets[0], call.body))
    split = 0
    while split < len(pipeline) and next(iter(pipeline[split]), "") in _SHARD_STAGES:
        split += 1
    for stage in pipeline[split:]:
        name = next(iter(stage), "")
        if name in _NOT_MERGED:
            raise CommandError(
                20,
                f"{name} is not supported by the mongotx sandbox's router on a collection "
                f"whose documents are on more than one shard ({call.db}.{coll})",
            )
    body = dict(call.body)
    body["pipeline"] = pipeline[:split]
    body["cursor"] = {}
    replies = await call.send_all(targets, body)
    ns = f"{call.db}.{coll}"
    docs: list[dict[str, Any]] = []
    for shard, reply in zip(targets, replies, strict=True):
        raise_for(reply)
        c = reply["cursor"]
        stream = Stream(shard, ns, int(c.get("id", 0)), list(c.get("firstBatch", [])))
        while stream.buffer or stream.cursor_id:
            docs.extend(stream.buffer)
            stream.buffer = []
            await stream.fill(call)
    merged = _run(docs, pipeline[split:], call.body.get("let"))
    return await _local_cursor(call, coll, merged)


def _refuse_migration_events(options: Any) -> None:
    """A change stream through the router may not show migration events (only one opened on
    a shard may) [srv:db/pipeline/document_source_change_stream.cpp
    assertIsLegalSpecification, uassert 31123]."""
    if isinstance(options, dict) and options.get("showMigrationEvents"):
        raise CommandError(31123, "Change streams from mongos may not show migration events")


async def _current_op(call: Call, pipeline: list[dict[str, Any]]) -> dict[str, Any]:
    """$currentOp at the router: every shard's operations, each naming its `shard` (so a
    prepared transaction shows on each participant) [manual: $currentOp, "Sharded
    Cluster"]. The sandbox's router keeps no operations of its own, so `localOps: true`
    lists the shards' too."""
    options = dict(pipeline[0]["$currentOp"] or {})
    options.pop("localOps", None)
    body = {"aggregate": 1, "pipeline": [{"$currentOp": options}], "cursor": {}}
    shards = list(call.catalog.shards)
    docs: list[dict[str, Any]] = []
    for shard, reply in zip(shards, await call.send_all(shards, body, "admin"), strict=True):
        raise_for(reply)
        docs.extend({**d, "shard": shard} for d in reply["cursor"]["firstBatch"])
    return await _local_cursor(call, "$cmd.aggregate", _run(docs, pipeline[1:]))


async def _coll_stats(call: Call, coll: str, pipeline: list[dict[str, Any]]) -> dict:
    """$collStats on a sharded collection: one document per shard, naming it in `shard`,
    its `storageStats` from the shard's collStats [manual: $collStats, "sharded
    collections"] (mongosh's getShardDistribution reads it)."""
    shards = list(call.catalog.shards)
    replies = await call.send_all(shards, {"collStats": coll})
    docs: list[dict[str, Any]] = []
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    for shard, reply in zip(shards, replies, strict=True):
        raise_for(reply)
        stats = {k: v for k, v in reply.items() if k != "ok"}
        docs.append(
            {
                "ns": f"{call.db}.{coll}",
                "shard": shard,
                "host": call.catalog.shards[shard],
                "localTime": now,
                "storageStats": stats,
            }
        )
    return await _local_cursor(call, coll, _run(docs, pipeline[1:], call.body.get("let")))


def _run(
    docs: list[dict[str, Any]], pipeline: list[dict[str, Any]], let: Any = None
) -> list[dict[str, Any]]:
    if not pipeline:
        return docs
    try:
        return run_pipeline(docs, pipeline, let=let if isinstance(let, dict) else None)
    except EngineError as exc:
        raise CommandError(exc.code, exc.message) from None


async def _local_cursor(call: Call, coll: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Documents merged at the router, served through a router cursor."""
    cursor_opts = call.body.get("cursor") or {}
    size = cursor_opts.get("batchSize") if isinstance(cursor_opts, dict) else None
    ns = f"{call.db}.{coll}"
    cursor = RouterCursor(ns, [Stream("", ns, 0, docs)])
    first = await cursor.batch(call, int(size) if size is not None else 101)
    return await _register(call, cursor, first)


async def config_find(call: Call, coll: str) -> dict[str, Any]:
    """config.shards/databases/collections/chunks from the catalog (mongosh's sh.status())."""
    docs = [d for d in call.catalog.config_documents(coll) if matches(call.body.get("filter"), d)]
    if call.body.get("sort"):
        docs = sort_documents(docs, call.body["sort"])
    skip = int(call.body.get("skip", 0) or 0)
    limit = abs(int(call.body.get("limit", 0) or 0))
    docs = docs[skip:]
    if limit:
        docs = docs[:limit]
    if isinstance(call.body.get("projection"), dict) and call.body["projection"]:
        docs = [apply_projection(d, call.body["projection"]) for d in docs]
    return await _local_cursor(call, coll, docs)


async def count(call: Call) -> dict[str, Any]:
    coll = _collection(call.body, "count")
    if call.db == "config":
        docs = call.catalog.config_documents(coll)
        n = sum(1 for d in docs if matches(call.body.get("query"), d))
        return {"n": n, "ok": 1.0}
    sharded = call.sharded(coll)
    if sharded is None:
        return await call.send(call.primary(), call.body)
    targets = shards_for_query(sharded, call.body.get("query"))
    body = dict(call.body)
    skip = int(body.pop("skip", 0) or 0)
    limit = abs(int(body.pop("limit", 0) or 0))
    replies = await call.send_all(targets, body)
    total = 0
    for reply in replies:
        raise_for(reply)
        total += int(reply.get("n", 0))
    # A count is orderless, so skip and limit apply to the sum [srv:s/commands/
    # cluster_count_cmd.cpp: limit + skip sent to the shards, applied to the total].
    total = max(0, total - skip)
    if limit:
        total = min(total, limit)
    return {"n": total, "ok": 1.0}


async def distinct(call: Call) -> dict[str, Any]:
    coll = _collection(call.body, "distinct")
    sharded = call.sharded(coll)
    if sharded is None:
        return await call.send(call.primary(), call.body)
    targets = shards_for_query(sharded, call.body.get("query"))
    replies = await call.send_all(targets, call.body)
    seen: dict[Any, Any] = {}
    for reply in replies:
        raise_for(reply)
        for value in reply.get("values", []):
            seen.setdefault(canonical_key(value), value)
    values = list(seen.values())
    values.sort(key=_Order)
    return {"values": values, "ok": 1.0}


class _Order:
    """BSON order as a sort key."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Order) -> bool:
        return compare_values(self.value, other.value) < 0

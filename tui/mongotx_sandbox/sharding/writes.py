"""Writes at the router: insert, update, delete and findAndModify sent to the shard that
owns each document's shard key, broadcast when a multi-document statement cannot be
targeted; the shards' replies merged into one (indexes of write errors and upserts
remapped to the client's batch) [srv:s/write_ops/batch_write_exec.cpp,
s/write_ops/batch_write_op.cpp BatchWriteOp::buildClientResponse]."""

from __future__ import annotations

from typing import Any

from ..errors import CommandError
from .catalog import ShardedCollection
from .core import Call, raise_for
from .targeting import exact_key, shard_for_document, shards_for_query


def _collection(call: Call, name: str) -> tuple[str, ShardedCollection | None]:
    coll = call.body.get(name)
    if not isinstance(coll, str) or not coll:
        raise CommandError(73, f"Invalid namespace specified '{coll}'")
    return coll, call.sharded(coll)


class _Merged:
    """The client's reply built from per-shard sub-batches."""

    def __init__(self) -> None:
        self.reply: dict[str, Any] = {"n": 0, "ok": 1.0}
        self.errors: list[dict[str, Any]] = []
        self.upserted: list[dict[str, Any]] = []

    def add(self, reply: dict[str, Any], indexes: list[int]) -> bool:
        """Fold one shard's reply for statements `indexes`; False if it had write errors."""
        raise_for(reply)
        self.reply["n"] += int(reply.get("n", 0))
        if "nModified" in reply:
            self.reply["nModified"] = self.reply.get("nModified", 0) + int(reply["nModified"])
        for up in reply.get("upserted", []):
            self.upserted.append({**up, "index": indexes[int(up["index"])]})
        for err in reply.get("writeErrors", []):
            self.errors.append({**err, "index": indexes[int(err["index"])]})
        if "writeConcernError" in reply and "writeConcernError" not in self.reply:
            self.reply["writeConcernError"] = reply["writeConcernError"]
        return not reply.get("writeErrors")

    def done(self) -> dict[str, Any]:
        if self.upserted:
            self.reply["upserted"] = sorted(self.upserted, key=lambda u: u["index"])
        if self.errors:
            self.reply["writeErrors"] = sorted(self.errors, key=lambda e: e["index"])
        return self.reply


async def insert(call: Call) -> dict[str, Any]:
    _, sharded = _collection(call, "insert")
    if sharded is None:
        return await call.send(call.primary(), call.body)
    docs = call.body.get("documents") or []
    # One sub-batch per shard: the sandbox's shards record a retryable write's reply per
    # txnNumber, without mongos's per-statement stmtIds, so a shard must see each
    # txnNumber once (an ordered batch's error stops only its own shard's sub-batch).
    groups = _group([shard_for_document(sharded, d) for d in docs], ordered=False)
    merged = _Merged()
    for shard, indexes in groups:
        body = {**call.body, "documents": [docs[i] for i in indexes]}
        merged.add(await call.send(shard, body), indexes)
    return merged.done()


def _group(shards: list[str], ordered: bool) -> list[tuple[str, list[int]]]:
    """Statements by shard: runs of consecutive statements when ordered (an error stops the
    rest), else one sub-batch per shard."""
    groups: list[tuple[str, list[int]]] = []
    for i, shard in enumerate(shards):
        if ordered and groups and groups[-1][0] == shard:
            groups[-1][1].append(i)
        elif not ordered and any(g[0] == shard for g in groups):
            next(g for g in groups if g[0] == shard)[1].append(i)
        else:
            groups.append((shard, [i]))
    return groups


def _no_exact_key(sharded: ShardedCollection, what: str) -> CommandError:
    # [srv:s/write_ops/... "Failed to target upsert by query :: could not extract exact
    # shard key"] ShardKeyNotFound.
    return CommandError(
        61,
        f"Failed to target {what} by query :: could not extract exact shard key from query "
        f"for shard key pattern {sharded.key}",
    )


def _targets(sharded: ShardedCollection, kind: str, stmt: dict[str, Any]) -> list[str]:
    """The shards one update/delete statement goes to."""
    query = stmt.get("q") or {}
    key = exact_key(sharded, query)
    if key is not None:
        return [sharded.chunk_for(key).shard]
    if kind == "updates" and stmt.get("upsert"):
        raise _no_exact_key(sharded, "upsert")
    return shards_for_query(sharded, query)


async def update_or_delete(call: Call, name: str, kind: str) -> dict[str, Any]:
    _, sharded = _collection(call, name)
    if sharded is None:
        return await call.send(call.primary(), call.body)
    stmts = call.body.get(kind) or []
    ordered = call.body.get("ordered", True) is not False
    merged = _Merged()
    for i, stmt in enumerate(stmts):
        targets = _targets(sharded, kind, stmt)
        multi = bool(stmt.get("multi")) if kind == "updates" else stmt.get("limit") == 0
        ok = True
        for shard in targets:
            reply = await call.send(shard, {**call.body, kind: [stmt]})
            ok = merged.add(reply, [i]) and ok
            if not multi and int(reply.get("n", 0)) > 0:
                # A single-document write without the shard key stops at the first shard
                # that matched (MongoDB runs it as a two-phase write without shard key:
                # [srv:s/write_ops/write_without_shard_key_util.cpp]).
                break
        if not ok and ordered:
            break
    return merged.done()


async def find_and_modify(call: Call) -> dict[str, Any]:
    name = next(iter(call.body))
    _, sharded = _collection(call, name)
    if sharded is None:
        return await call.send(call.primary(), call.body)
    query = call.body.get("query") or {}
    key = exact_key(sharded, query)
    if key is not None:
        return await call.send(sharded.chunk_for(key).shard, call.body)
    if call.body.get("upsert"):
        raise _no_exact_key(sharded, "upsert")
    reply: dict[str, Any] = {}
    for shard in shards_for_query(sharded, query):
        reply = await call.send(shard, call.body)
        raise_for(reply)
        if int((reply.get("lastErrorObject") or {}).get("n", 0)) > 0:
            break
    return reply

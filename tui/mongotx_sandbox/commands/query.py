"""find, getMore, killCursors, aggregate, count and distinct."""

from __future__ import annotations

import time
from typing import Any

from .. import engine
from ..access import OpContext, engine_error
from ..cursors import DEFAULT_FIRST_BATCH, cursor_reply, open_cursor
from ..errors import CommandError
from ..state import session_key
from . import min_max
from .common import coll_name, get_doc, integer_arg, project, sort_docs
from .read_concern import apply_read_concern, refuse_snapshot_read_concern
from .registry import command


def _int_arg(body: dict[str, Any], name: str, default: int = 0) -> int:
    value = body.get(name, default)
    return default if value is None else integer_arg(value, name)


def _batch_size(body: dict[str, Any]) -> int | None:
    """`batchSize` of find and getMore: an integer >= 0, given or not."""
    if body.get("batchSize") is None:
        return None
    size = integer_arg(body["batchSize"], "batchSize")
    if size < 0:
        raise CommandError(51024, "BSON field 'batchSize' value must be >= 0")
    return size


def _lsid_key(ctx: OpContext) -> Any:
    return session_key(ctx.session.lsid) if ctx.session is not None else None


@command("find", in_transaction=True, reads=True)
async def find(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, "find")
    if body.get("readOnce") and ctx.txn is not None:
        # [srv:db/commands/find_cmd.cpp] readOnce cursors are not for transactions (issue 17).
        raise CommandError(263, "The 'readOnce' option is not supported within a transaction.")
    extras = apply_read_concern(ctx, body)
    query = get_doc(body, "filter", {}) or {}
    sort = get_doc(body, "sort")
    projection = get_doc(body, "projection")
    skip = _int_arg(body, "skip")
    limit = _int_arg(body, "limit")
    batch_size = _batch_size(body)
    if skip < 0:
        raise CommandError(51024, f"BSON field 'skip' value must be >= 0, actual value '{skip}'")
    single = bool(body.get("singleBatch"))
    if limit < 0:
        limit, single = -limit, True
    coll = ctx.collection(ctx.db, name)
    ctx.use_collation(coll, body.get("collation"))
    bounds = min_max.parse(coll, body)
    # Without a sort, natural order: the scan can stop once skip + limit documents matched.
    early = skip + limit if limit and not sort and bounds is None else 0
    docs = [d for _, d in await ctx.find_off_loop(coll, query, limit=early)]
    if bounds is not None:
        docs = bounds.apply(docs)
    docs = sort_docs(docs, sort, ctx.collation)
    if skip:
        docs = docs[skip:]
    if limit:
        docs = docs[:limit]
    if projection:
        docs = [project(d, projection, query, ctx.let) for d in docs]
    # No batchSize: 101 documents; batchSize 0: an empty first batch and an open cursor
    # (find_common.cpp FindCommon::enoughForFirstBatch).
    first = batch_size if batch_size is not None else DEFAULT_FIRST_BATCH
    ns = f"{ctx.db}.{name}"
    batch, cid = open_cursor(
        ctx.state,
        ns,
        docs,
        first_batch=first,
        single_batch=single,
        lsid_key=_lsid_key(ctx),
        txn=ctx.txn,
        no_timeout=bool(body.get("noCursorTimeout")),
    )
    return cursor_reply(ns, batch, cid, True, **extras)


@command("getMore", in_transaction=True)
async def get_more(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    cid = body.get("getMore")
    if not isinstance(cid, int) or isinstance(cid, bool):
        raise CommandError(14, "BSON field 'getMore' is the wrong type, expected type 'long'")
    name = coll_name(body, "collection")
    cursor = ctx.state.cursors.get(int(cid))
    ns = f"{ctx.db}.{name}"
    if cursor is None:
        raise CommandError(43, f"cursor id {cid} not found")
    if cursor.ns != ns:
        raise CommandError(
            13,
            f"Requested getMore on namespace '{ns}', but cursor belongs to a different namespace {cursor.ns}",
        )
    if cursor.txn is not None and cursor.txn is not ctx.txn:
        raise CommandError(
            50740, "Cannot run getMore on a cursor in a multi-document transaction outside of it"
        )
    if ctx.txn is not None and cursor.txn is not ctx.txn:
        raise CommandError(50740, "Cannot run getMore on a cursor opened outside this transaction")
    batch_size = _batch_size(body)
    if "change_stream" in cursor.extra:
        stream = cursor.extra["change_stream"]
        wait_ms = body.get("maxTimeMS", 1000)
        batch = await stream.next_batch(batch_size, float(wait_ms or 0) / 1000)
        cursor.last_use = time.monotonic()
        cid_out = cursor.id
        if stream.invalidated:
            # An invalidate event ends the stream: the cursor closes with it.
            ctx.state.cursors.pop(cursor.id, None)
            cid_out = 0
        return cursor_reply(ns, batch, cid_out, False, postBatchResumeToken=stream.resume_token())
    # A getMore's batchSize 0 means no count limit, only the 16 MiB one
    # (find_common.h FindCommon::enoughForGetMore).
    batch = cursor.take(batch_size or None)
    cid_out = cursor.id
    if cursor.exhausted:
        ctx.state.cursors.pop(cursor.id, None)
        if cursor.txn is not None:
            cursor.txn.cursors.discard(cursor.id)
        cid_out = 0
    return cursor_reply(ns, batch, cid_out, False)


@command("killCursors", in_transaction=True)
async def kill_cursors(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    coll_name(body, "killCursors")
    killed, not_found = [], []
    for cid in body.get("cursors") or []:
        cursor = ctx.state.cursors.pop(int(cid), None)
        if cursor is None:
            not_found.append(cid)
        else:
            if cursor.txn is not None:
                cursor.txn.cursors.discard(cursor.id)
            killed.append(cid)
    return {
        "cursorsKilled": killed,
        "cursorsNotFound": not_found,
        "cursorsAlive": [],
        "cursorsUnknown": [],
        "ok": 1.0,
    }


@command("count", reads=True)
async def count(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, "count")
    refuse_snapshot_read_concern(body, "count")
    apply_read_concern(ctx, body)
    query = get_doc(body, "query", {}) or {}
    skip = _int_arg(body, "skip")
    limit = abs(_int_arg(body, "limit"))
    coll = ctx.collection(ctx.db, name)
    ctx.use_collation(coll, body.get("collation"))
    n = ctx.count(coll) if not query else len(await ctx.find_off_loop(coll, query))
    n = max(0, n - skip)
    if limit:
        n = min(n, limit)
    return {"n": n, "ok": 1.0}


@command("distinct", in_transaction=True, reads=True)
async def distinct(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, "distinct")
    extras = apply_read_concern(ctx, body)
    key = body.get("key")
    if not isinstance(key, str):
        raise CommandError(14, "BSON field 'key' is missing or not a string")
    query = get_doc(body, "query", {}) or {}
    coll = ctx.collection(ctx.db, name)
    ctx.use_collation(coll, body.get("collation"))
    docs = [d for _, d in await ctx.find_off_loop(coll, query)]
    try:
        values = engine.distinct_values(docs, key, collation=ctx.collation)
    except engine.EngineError as exc:
        raise engine_error(exc) from exc
    reply: dict[str, Any] = {"values": values}
    reply.update(extras)
    reply["ok"] = 1.0
    return reply


@command("aggregate", in_transaction=True, reads=True, write=True)
async def aggregate(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    # Loaded on the first aggregate: find, count and distinct do not pay for it.
    from .aggregate_stages import run_aggregate

    return await run_aggregate(ctx, body)

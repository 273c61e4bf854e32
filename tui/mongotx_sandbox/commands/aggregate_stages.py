"""The aggregate command: pipeline through the engine, plus the stages the server owns
($currentOp, $changeStream, $out)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from .. import engine, offload
from ..access import OpContext, engine_error
from ..cursors import DEFAULT_FIRST_BATCH, cursor_reply, open_cursor
from ..errors import CommandError
from ..state import session_key
from .common import integer_arg
from .read_concern import apply_read_concern


def _pipeline(body: dict[str, Any]) -> list[dict[str, Any]]:
    pipeline = body.get("pipeline")
    if not isinstance(pipeline, list):
        raise CommandError(14, "'pipeline' option must be specified as an array")
    for stage in pipeline:
        if not isinstance(stage, dict) or len(stage) != 1:
            raise CommandError(
                40323, "A pipeline stage specification object must contain exactly one field."
            )
    return pipeline


def _batch_size(body: dict[str, Any]) -> int | None:
    cursor = body.get("cursor")
    if cursor is None and not body.get("explain"):
        raise CommandError(
            9, "The 'cursor' option is required, except for aggregate with the explain argument"
        )
    if isinstance(cursor, dict) and "batchSize" in cursor:
        size = integer_arg(cursor["batchSize"], "cursor.batchSize")
        if size < 0:
            raise CommandError(2, "cursor.batchSize must not be negative")
        return size
    return DEFAULT_FIRST_BATCH


async def run_aggregate(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    target = body.get("aggregate")
    pipeline = _pipeline(body)
    first_batch = _batch_size(body)
    stage_names = [next(iter(s)) for s in pipeline]
    if body.get("explain") is True and ctx.txn is None:
        # aggregate's own `explain: true`: the plan at verbosity queryPlanner (issue 17, D15).
        from .explain import explain_aggregate

        return explain_aggregate(ctx, body, "queryPlanner")
    if ctx.txn is not None:
        for bad in ("$out", "$merge", "$changeStream", "$currentOp"):
            if bad in stage_names:
                raise CommandError(263, f"{bad} cannot be used in a transaction")
    if "$changeStream" in stage_names:
        from .change_streams import open_change_stream

        return await open_change_stream(ctx, body, pipeline, first_batch)
    extras = apply_read_concern(ctx, body)
    ctx.use_collation(None, body.get("collation"))
    if stage_names and stage_names[0] == "$currentOp":
        if target != 1 or ctx.db != "admin":
            raise CommandError(
                73, "$currentOp must be run against the 'admin' database with {aggregate: 1}"
            )
        from .current_op import current_op

        docs = current_op(ctx, pipeline[0]["$currentOp"] or {})
        pipeline = pipeline[1:]
        ns = "admin.$cmd.aggregate"
    elif isinstance(target, str):
        coll = ctx.collection(ctx.db, target)
        ctx.use_collation(coll, body.get("collation"))
        docs = [d for _, d in ctx.scan(coll)] if coll is not None else []
        ns = f"{ctx.db}.{target}"
    elif target == 1 and stage_names and stage_names[0] == "$listLocalSessions":
        docs = list_local_sessions(ctx, pipeline[0]["$listLocalSessions"] or {})
        pipeline = pipeline[1:]
        ns = f"{ctx.db}.$cmd.aggregate"
    elif target == 1:
        docs = []
        ns = f"{ctx.db}.$cmd.aggregate"
        if pipeline and stage_names[0] != "$documents":
            raise CommandError(
                73,
                "{aggregate: 1} needs a collection-less first stage ($documents, "
                "$listLocalSessions, $currentOp or $changeStream)",
            )
    else:
        raise CommandError(14, "Invalid aggregate namespace")
    out_stage = None
    level = (body.get("readConcern") or {}).get("level")
    if level == "linearizable" and stage_names and stage_names[-1] in ("$out", "$merge"):
        # The manual's $out/$merge restrictions: no linearizable read concern.
        raise CommandError(
            72, f"{stage_names[-1]} cannot be used with a 'linearizable' read concern level"
        )
    if pipeline and stage_names[-1] in ("$out", "$merge"):
        out_stage = pipeline[-1]
        pipeline = pipeline[:-1]
    for name in stage_names[:-1] if out_stage else stage_names:
        if name in ("$out", "$merge"):
            raise CommandError(40601, f"{name} can only be the final stage in the pipeline")

    def scan(name: str) -> list[dict[str, Any]]:
        other = ctx.collection(ctx.db, name)
        return [d for _, d in ctx.scan(other)] if other is not None else []

    def lookup(name: str) -> list[dict[str, Any]]:
        return offload.on_loop(lambda: scan(name))  # server state: read on the loop

    try:
        # The pipeline runs off the event loop: other clients are answered meanwhile.
        result = await offload.compute(
            engine.run_pipeline,
            docs,
            pipeline,
            lookup=lookup,
            let=body.get("let"),
            collation=ctx.collation,
        )
    except engine.EngineError as exc:
        raise engine_error(exc) from exc
    if out_stage is not None:
        if "$merge" in out_stage:
            from .merge import write_merge

            await write_merge(ctx, out_stage["$merge"], result)
        else:
            await _write_out(ctx, out_stage["$out"], result)
        result = []
    batch, cid = open_cursor(
        ctx.state,
        ns,
        result,
        first_batch=first_batch,
        lsid_key=session_key(ctx.session.lsid) if ctx.session else None,
        txn=ctx.txn,
    )
    return cursor_reply(ns, batch, cid, True, **extras)


async def _write_out(ctx: OpContext, spec: Any, docs: list[dict[str, Any]]) -> None:
    """$out replaces the target collection with the results."""
    if isinstance(spec, str):
        db, name = ctx.db, spec
    elif isinstance(spec, dict) and isinstance(spec.get("coll"), str):
        db, name = spec.get("db", ctx.db), spec["coll"]
    else:
        raise CommandError(16990, "$out only supports a string or object argument")
    from .common import with_id_first

    old = ctx.state.catalog.get(db, name)
    indexes = dict(old.indexes) if old is not None else None
    ctx.state.catalog.drop(db, name, ctx.state.clock.tick(), ctx.state.oldest_snapshot())
    coll = ctx.ensure_collection(db, name)
    if indexes:
        coll.indexes = indexes
    for doc in docs:
        await ctx.insert(coll, with_id_first(dict(doc)))


def list_local_sessions(ctx: OpContext, options: dict[str, Any]) -> list[dict[str, Any]]:
    """$listLocalSessions: the sessions this server has in memory (no users: no auth)."""
    if not isinstance(options, dict):
        raise CommandError(14, "$listLocalSessions must be an object")
    wanted = options.get("users")
    out = []
    now_mono = time.monotonic()
    now_wall = time.time()
    for sess in ctx.state.sessions.values():
        if wanted is not None and not options.get("allUsers") and wanted:
            continue  # no authentication: sessions belong to no user
        last_use = now_wall - (now_mono - sess.last_use)
        out.append(
            {
                "_id": dict(sess.lsid),
                "lastUse": datetime.fromtimestamp(last_use, UTC).replace(tzinfo=None),
            }
        )
    return out

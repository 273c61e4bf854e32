"""applyOps: oplog entries applied as writes (issue 17, D15 neighbours)."""

from __future__ import annotations

from typing import Any

from ..access import OpContext, check_namespace
from ..errors import CommandError
from .common import update_target, write_collection
from .crud import delete_matching, update_statement
from .registry import command


def _namespace(op: dict[str, Any]) -> tuple[str, str]:
    ns = op.get("ns")
    db, _, name = ns.partition(".") if isinstance(ns, str) else ("", "", "")
    if not db or not name:
        raise CommandError(73, f"Invalid namespace in applyOps: {ns!r}")
    return db, name


def _create(ctx: OpContext, db: str, o: dict[str, Any]) -> None:
    """A `create` command entry, with its options: `temp` among them, which only such an
    entry sets (a temporary collection, dropped at step-up and startup; a transaction
    that wrote to one cannot prepare) [srv:db/repl/oplog.cpp, the create entry of
    kOpsMap; jstests prepare_transaction_fails_on_temp_collections.js]."""
    name = o["create"]
    check_namespace(db, name)
    if ctx.state.catalog.get(db, name) is not None:
        raise CommandError(48, f"Collection {db}.{name} already exists.")
    options = {k: v for k, v in o.items() if k not in ("create", "idIndex")}
    seq = ctx.state.clock.tick()
    ctx.state.catalog.create(db, name, options, seq, ctx.state.oldest_snapshot())
    ctx.state.log_write(seq, "create", db, name, extra={"operationDescription": options})


async def _apply(ctx: OpContext, op: dict[str, Any]) -> None:
    kind = op.get("op")
    if kind == "n":
        return
    if kind == "c" and isinstance(op.get("o"), dict) and isinstance(op["o"].get("create"), str):
        _create(ctx, _namespace(op)[0], op["o"])
        return
    if kind not in ("i", "u", "d"):
        raise CommandError(
            2,
            "applyOps: the sandbox applies only CRUD oplog entries (i, u, d, n) and the create "
            f"command entry (c), not {kind!r}",
        )
    db, name = _namespace(op)
    o = op.get("o")
    if not isinstance(o, dict):
        raise CommandError(14, "applyOps: 'o' must be an object")
    if kind == "i":
        # An insert of an existing _id replaces it: oplog application is idempotent.
        if "_id" not in o:
            raise CommandError(4, "applyOps: an insert needs an _id")
        coll = write_collection(ctx, db, name)
        await update_statement(ctx, coll, {"q": {"_id": o["_id"]}, "u": o, "upsert": True})
    elif kind == "u":
        o2 = op.get("o2")
        if not isinstance(o2, dict):
            raise CommandError(14, "applyOps: an update needs 'o2'")
        if "$v" in o or "diff" in o:
            raise CommandError(2, "applyOps: the sandbox does not apply $v: 2 update diffs")
        # The applyOps command upserts a missing document [srv:db/repl/apply_ops.cpp,
        # oplog.cpp applyOperation_inlock, alwaysUpsert for the command].
        coll = update_target(ctx, db, name, upsert=True)
        await update_statement(ctx, coll, {"q": o2, "u": o, "upsert": True})
    else:
        coll = ctx.collection(db, name)
        if coll is not None:
            await delete_matching(ctx, coll, o, multi=False)


@command("applyOps", write=True)
async def apply_ops(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Apply each entry in order; the reply counts them, one `true` per entry applied
    [srv:db/repl/apply_ops.cpp; manual: applyOps]. Not allowed in a transaction."""
    ops = body.get("applyOps")
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        raise CommandError(14, "applyOps must be an array of oplog entries")
    results: list[bool] = []
    for op in ops:
        await _apply(ctx, op)
        results.append(True)
    return {"applied": len(results), "results": results, "ok": 1.0}

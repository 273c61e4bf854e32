"""The client-level bulkWrite admin command (MongoDB 8.0, wire version 25).

`{bulkWrite: 1, ops: [...], nsInfo: [{ns}], ordered, errorsOnly, let, ...}` runs inserts,
updates and deletes against any number of namespaces. Each op names its namespace by index
into `nsInfo`. The reply is a cursor of per-op results (`{ok, idx, n, nModified, upserted}`
or `{ok: 0, idx, code, codeName, errmsg}`; only the errors when `errorsOnly` is true) plus
the summary counts nErrors / nInserted / nMatched / nModified / nUpserted / nDeleted.

The statements themselves run through the helpers of the insert / update / delete commands
(crud.py), so documents, updates and errors behave exactly as there. Malformed requests fail
the whole command before anything runs; errors while running an op become per-op entries.
Inside a transaction the first per-op error aborts the transaction and stops the batch, as
the server's write path does (write_ops_exec.cpp handleError).
"""

from __future__ import annotations

from typing import Any

from ..access import OpContext
from ..cursors import cursor_reply, open_cursor
from ..errors import CommandError
from .common import (
    check_document,
    get_doc,
    integer_arg,
    update_target,
    with_id_first,
    write_collection,
)
from .crud import NO_UPSERT, delete_matching, is_statement_error, update_statement, write_batch
from .registry import command

CURSOR_NS = "admin.$cmd.bulkWrite"
_OP_FIELDS = {
    "insert": {"insert", "document"},
    "update": {
        "update",
        "filter",
        "updateMods",
        "multi",
        "upsert",
        "arrayFilters",
        "hint",
        "collation",
        "sort",
        "constants",
        "upsertSupplied",
        "sampleId",
        "rawData",
    },
    "delete": {"delete", "filter", "multi", "hint", "collation", "sampleId", "rawData"},
}


def _namespaces(body: dict[str, Any]) -> list[tuple[str, str]]:
    infos = body.get("nsInfo")
    if not isinstance(infos, list):
        raise CommandError(
            40414 if infos is None else 14,
            "BSON field 'bulkWrite.nsInfo' is missing but a required field"
            if infos is None
            else "BSON field 'bulkWrite.nsInfo' is the wrong type, expected type 'array'",
        )
    out = []
    for info in infos:
        if not isinstance(info, dict):
            raise CommandError(14, "BSON field 'bulkWrite.nsInfo' entries must be objects")
        ns = info.get("ns")
        if not isinstance(ns, str):
            raise CommandError(
                40414 if ns is None else 14,
                "BSON field 'bulkWrite.nsInfo.ns' is missing but a required field"
                if ns is None
                else "BSON field 'bulkWrite.nsInfo.ns' is the wrong type, expected type 'string'",
            )
        db, dot, name = ns.partition(".")
        if not db or not dot or not name:
            raise CommandError(73, f"Invalid namespace specified '{ns}'")
        out.append((db, name))
    return out


def _parse_op(i: int, op: Any, n_ns: int) -> tuple[str, int]:
    """The op's kind and namespace index; structural errors fail the whole command."""
    if not isinstance(op, dict) or not op:
        raise CommandError(14, f"BulkWrite ops entry {i} must be a non-empty object")
    kind = next(iter(op))
    if kind not in _OP_FIELDS:
        raise CommandError(40415, f"BSON field 'bulkWrite.ops.{kind}' is an unknown field.")
    for key in op:
        if key not in _OP_FIELDS[kind]:
            raise CommandError(40415, f"BSON field 'bulkWrite.ops.{key}' is an unknown field.")
    # An integral double is an index too, as for every integer argument (integer_arg); the
    # legacy shell sends its numbers as doubles (jstests bulk_write_getMore.js).
    idx = integer_arg(op[kind], f"bulkWrite.ops.{kind}")
    if not 0 <= idx < n_ns:
        raise CommandError(2, f"BulkWrite ops entry {i} has an invalid nsInfo index.")
    required = {"insert": ("document",), "update": ("filter", "updateMods"), "delete": ("filter",)}
    for field in required[kind]:
        if field not in op:
            raise CommandError(
                40414, f"BSON field 'bulkWrite.ops.{field}' is missing but a required field"
            )
    if kind == "insert" and not isinstance(op["document"], dict):
        raise CommandError(
            14, "BSON field 'bulkWrite.ops.document' is the wrong type, expected type 'object'"
        )
    return kind, int(idx)


async def _run_op(
    ctx: OpContext, kind: str, db: str, name: str, op: dict[str, Any]
) -> dict[str, Any]:
    """One op; returns its reply item's counts (`n`, `nModified`, `upserted`)."""
    if kind == "insert":
        coll = write_collection(ctx, db, name)
        doc = with_id_first(op["document"])
        check_document(doc)
        await ctx.insert(coll, doc)
        return {"n": 1}
    if kind == "update":
        coll = update_target(ctx, db, name, bool(op.get("upsert", False)))
        stmt = {
            "q": get_doc(op, "filter", {}) or {},
            "u": op["updateMods"],
            "multi": op.get("multi", False),
            "upsert": op.get("upsert", False),
            "arrayFilters": op.get("arrayFilters"),
            "sort": op.get("sort"),
            "collation": op.get("collation"),
        }
        n, modified, upserted_id, _ = await update_statement(ctx, coll, stmt)
        item: dict[str, Any] = {"n": n, "nModified": modified}
        if upserted_id is not NO_UPSERT:
            item["n"] = 1
            item["upserted"] = {"_id": upserted_id}
        return item
    query = get_doc(op, "filter", {}) or {}
    coll = ctx.collection(db, name)
    ctx.use_collation(coll, op.get("collation"))
    if coll is None:
        return {"n": 0}
    if ctx.txn is not None:
        write_collection(ctx, db, name)
    return {"n": await delete_matching(ctx, coll, query, multi=bool(op.get("multi", False)))}


@command(
    "bulkWrite",
    in_transaction=True,
    retryable_write=True,
    write=True,
    admin_only=True,
)
async def bulk_write(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    ops = write_batch(body, "ops")
    namespaces = _namespaces(body)
    ordered = bool(body.get("ordered", True))
    errors_only = bool(body.get("errorsOnly", False))
    let = get_doc(body, "let")
    cursor_opts = get_doc(body, "cursor") or {}
    batch_size = cursor_opts.get("batchSize")
    if batch_size is not None:
        batch_size = integer_arg(batch_size, "cursor.batchSize")
    if batch_size is not None and batch_size < 0:
        raise CommandError(2, "cursor.batchSize must not be negative")
    parsed = [_parse_op(i, op, len(namespaces)) for i, op in enumerate(ops)]
    if let is not None:
        ctx.let = let

    results: list[dict[str, Any]] = []
    counts = {"nInserted": 0, "nMatched": 0, "nModified": 0, "nUpserted": 0, "nDeleted": 0}
    n_errors = 0
    for i, (op, (kind, ns_idx)) in enumerate(zip(ops, parsed, strict=True)):
        db, name = namespaces[ns_idx]
        try:
            item = await _run_op(ctx, kind, db, name, op)
        except CommandError as exc:
            if not is_statement_error(exc):
                raise
            n_errors += 1
            err: dict[str, Any] = {
                "ok": 0.0,
                "idx": i,
                "code": exc.code,
                "codeName": exc.code_name,
                "errmsg": exc.message,
            }
            err.update(exc.extra)
            err["n"] = 0
            if kind == "update":
                err["nModified"] = 0
            results.append(err)
            if ctx.txn is not None:
                # A write error ends the transaction (write_ops_exec.cpp handleError).
                ctx.state.abort(ctx.txn, f"bulkWrite op {i} failed: {exc.message}")
                break
            if ordered:
                break
            continue
        if kind == "insert":
            counts["nInserted"] += 1
        elif kind == "update":
            if "upserted" in item:
                counts["nUpserted"] += 1
            else:
                counts["nMatched"] += item["n"]
            counts["nModified"] += item["nModified"]
        else:
            counts["nDeleted"] += item["n"]
        if not errors_only:
            results.append({"ok": 1.0, "idx": i, **item})

    batch, cursor_id = open_cursor(
        ctx.state,
        CURSOR_NS,
        results,
        first_batch=batch_size,
        lsid_key=ctx.session_key,
        txn=ctx.txn if ctx.txn is not None and ctx.txn.open else None,
    )
    reply = cursor_reply(CURSOR_NS, batch, cursor_id, True)
    reply.pop("ok")
    reply.update(
        {
            "nErrors": n_errors,
            "nInserted": counts["nInserted"],
            "nMatched": counts["nMatched"],
            "nModified": counts["nModified"],
            "nUpserted": counts["nUpserted"],
            "nDeleted": counts["nDeleted"],
            "ok": 1.0,
        }
    )
    return reply

"""insert, update, delete and findAndModify."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..access import KeyWaited, OpContext
from ..changes import update_description
from ..errors import CommandError
from ..store import Collection
from ..wire import MAX_WRITE_BATCH_SIZE
from .common import (
    check_document,
    coll_name,
    compute_update,
    get_doc,
    get_list,
    is_replacement,
    parse_update,
    project,
    same_document,
    sort_docs,
    update_target,
    upsert_document,
    with_id_first,
    write_collection,
)
from .registry import command


def write_batch(body: dict[str, Any], field: str) -> list[Any]:
    items = get_list(body, field)
    if len(items) > MAX_WRITE_BATCH_SIZE:
        raise CommandError(
            10,
            f"Write batch sizes must be between 1 and {MAX_WRITE_BATCH_SIZE}. Got {len(items)} operations.",
        )
    if not items:
        raise CommandError(10, "Write batch sizes must be between 1 and 100000. Got 0 operations.")
    return items


def _write_error(index: int, exc: CommandError) -> dict[str, Any]:
    err = {"index": index, "code": exc.code, "errmsg": exc.message}
    err.update(exc.extra)
    return err


def is_statement_error(exc: CommandError) -> bool:
    """Transient errors escape as top-level command errors (write_ops_exec.cpp handleError)."""
    return exc.code not in (112, 24, 50, 11601, 290)


@command("insert", in_transaction=True, retryable_write=True, write=True)
async def insert(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, "insert")
    docs = write_batch(body, "documents")
    ordered = body.get("ordered", True)
    coll = write_collection(ctx, ctx.db, name)
    n = 0
    errors: list[dict[str, Any]] = []
    for i, raw in enumerate(docs):
        try:
            if not isinstance(raw, dict):
                raise CommandError(14, "documents must be objects")
            doc = with_id_first(raw)
            check_document(doc)
            await ctx.insert(coll, doc)
            n += 1
        except CommandError as exc:
            if not is_statement_error(exc):
                raise
            errors.append(_write_error(i, exc))
            if ordered or ctx.txn is not None:
                break
    reply: dict[str, Any] = {"n": n}
    if errors:
        reply["writeErrors"] = errors
    reply["ok"] = 1.0
    return reply


async def _current(ctx: OpContext, coll: Collection, key: Hashable) -> dict[str, Any] | None:
    """The version a write starts from: the snapshot's in a transaction, else the latest
    once no open transaction holds the document (waiting for it if one does)."""
    if ctx.txn is not None:
        return ctx.get(coll, key)
    return await ctx.lock_for_write(coll, key)


async def _store(
    ctx: OpContext,
    coll: Collection,
    key: Hashable,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    op: str,
) -> None:
    if ctx.txn is not None:
        await ctx.lock_for_write(coll, key)  # conflicts now, before anything is recorded
    desc = update_description(old, new) if op == "update" and old and new else None
    await ctx.put(coll, key, new, op, desc)


async def _update_one(
    ctx: OpContext,
    coll: Collection,
    key: Hashable,
    query: dict[str, Any],
    update: Any,
    array_filters: Any,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Update one document; (old, new), or None when it no longer matches the query."""
    while True:
        old = await _current(ctx, coll, key)
        if old is None or not ctx.matches(query, old):
            return None
        new = compute_update(old, update, array_filters=array_filters, query=query, let=ctx.let)
        if is_replacement(update):
            new = with_id_first({**new, "_id": old["_id"]})
        if same_document(old, new):
            return old, new
        check_document(new)
        try:
            await _store(
                ctx, coll, key, old, new, "replace" if is_replacement(update) else "update"
            )
        except KeyWaited:
            continue  # waited for a unique key's holder: read the document again
        return old, new


# update_statement's "nothing upserted" (an upserted `_id` may itself be null, issue 17).
NO_UPSERT: Any = object()


async def update_statement(
    ctx: OpContext, coll: Collection | None, stmt: dict[str, Any]
) -> tuple[int, int, Any, list[tuple[dict[str, Any] | None, dict[str, Any] | None]]]:
    """Run one update statement; returns (n, nModified, upserted _id or NO_UPSERT, changes).
    `coll` is None when the collection is missing and the statement does not upsert."""
    query = get_doc(stmt, "q", {}) or {}
    update = stmt.get("u")
    if not isinstance(update, dict | list):
        raise CommandError(14, "BSON field 'u' must be an object or an array")
    multi = bool(stmt.get("multi", False))
    upsert = bool(stmt.get("upsert", False))
    array_filters = stmt.get("arrayFilters")
    if multi and is_replacement(update) and update:
        raise CommandError(9, "multi update is not supported for replacement-style update")
    parse_update(update, array_filters)
    ctx.use_collation(coll, stmt.get("collation"))
    if coll is None:
        return 0, 0, NO_UPSERT, []
    candidates = ctx.find(coll, query)
    if not multi and stmt.get("sort") and len(candidates) > 1:
        by_doc = {id(d): k for k, d in candidates}
        ordered = sort_docs([d for _, d in candidates], stmt["sort"], ctx.collation)
        candidates = [(by_doc[id(d)], d) for d in ordered]
    n = modified = 0
    changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    for key, _seen in candidates:
        done = await _update_one(ctx, coll, key, query, update, array_filters)
        if done is None:
            continue
        old, new = done
        n += 1
        if not same_document(old, new):
            modified += 1
            changes.append((old, new))
        if not multi:
            break
    if n == 0 and upsert:
        doc = upsert_document(query, update, array_filters, ctx.let)
        check_document(doc)
        await ctx.insert(coll, doc)
        changes.append((None, doc))
        return 0, 0, doc["_id"], changes
    return n, modified, NO_UPSERT, changes


@command("update", in_transaction=True, retryable_write=True, write=True)
async def update(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, "update")
    stmts = write_batch(body, "updates")
    ordered = body.get("ordered", True)
    n = modified = 0
    upserted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for i, stmt in enumerate(stmts):
        try:
            if not isinstance(stmt, dict):
                raise CommandError(14, "update statements must be objects")
            coll = update_target(ctx, ctx.db, name, bool(stmt.get("upsert", False)))
            sn, sm, up_id, _ = await update_statement(ctx, coll, stmt)
            n += sn
            modified += sm
            if up_id is not NO_UPSERT:
                n += 1
                upserted.append({"index": i, "_id": up_id})
        except CommandError as exc:
            if not is_statement_error(exc):
                raise
            errors.append(_write_error(i, exc))
            if ordered or ctx.txn is not None:
                break
    reply: dict[str, Any] = {"n": n, "nModified": modified}
    if upserted:
        reply["upserted"] = upserted
    if errors:
        reply["writeErrors"] = errors
    reply["ok"] = 1.0
    return reply


@command("delete", in_transaction=True, retryable_write=True, write=True)
async def delete(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, "delete")
    stmts = write_batch(body, "deletes")
    ordered = body.get("ordered", True)
    coll = ctx.collection(ctx.db, name)
    n = 0
    errors: list[dict[str, Any]] = []
    for i, stmt in enumerate(stmts):
        try:
            if not isinstance(stmt, dict):
                raise CommandError(14, "delete statements must be objects")
            limit = stmt.get("limit", 0)
            if limit not in (0, 1):
                raise CommandError(
                    9, "The limit field in delete objects must be 0 or 1. Got " + str(limit)
                )
            ctx.use_collation(coll, stmt.get("collation"))
            if coll is None:
                continue
            if ctx.txn is not None:
                write_collection(ctx, ctx.db, name)
            query = get_doc(stmt, "q", {}) or {}
            n += await delete_matching(ctx, coll, query, multi=limit == 0)
        except CommandError as exc:
            if not is_statement_error(exc):
                raise
            errors.append(_write_error(i, exc))
            if ordered or ctx.txn is not None:
                break
    reply: dict[str, Any] = {"n": n}
    if errors:
        reply["writeErrors"] = errors
    reply["ok"] = 1.0
    return reply


async def delete_matching(
    ctx: OpContext, coll: Collection, query: dict[str, Any], *, multi: bool, sort: Any = None
) -> int:
    candidates = ctx.find(coll, query)
    if sort and len(candidates) > 1:
        by_doc = {id(d): k for k, d in candidates}
        candidates = [
            (by_doc[id(d)], d) for d in sort_docs([d for _, d in candidates], sort, ctx.collation)
        ]
    n = 0
    for key, _seen in candidates:
        old = await _current(ctx, coll, key)
        if old is None or not ctx.matches(query, old):
            continue
        await _store(ctx, coll, key, old, None, "delete")
        n += 1
        if not multi:
            break
    return n


@command("findAndModify", "findandmodify", in_transaction=True, retryable_write=True, write=True)
async def find_and_modify(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    name = coll_name(body, next(iter(body)))
    query = get_doc(body, "query", {}) or {}
    sort = get_doc(body, "sort")
    fields = get_doc(body, "fields")
    remove = bool(body.get("remove", False))
    update = body.get("update")
    return_new = bool(body.get("new", False))
    upsert = bool(body.get("upsert", False))
    if remove and update is not None:
        raise CommandError(9, "Cannot specify both an update and remove=true")
    if not remove and update is None:
        raise CommandError(9, "Either an update or remove=true must be specified")
    if remove and (upsert or return_new):
        raise CommandError(
            9,
            "Cannot specify both upsert=true and remove=true"
            if upsert
            else "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
        )
    if update is not None and not isinstance(update, dict | list):
        raise CommandError(14, "Update argument must be either an object or an array")
    if update is not None:
        parse_update(update, body.get("arrayFilters"))
    if ctx.txn is not None and name.startswith("system."):
        # findAndModify's own check, before the write path's 50791
        # [srv:db/commands/find_and_modify.cpp].
        raise CommandError(
            50781, f"Cannot write to system collection {ctx.db}.{name} within a transaction."
        )
    coll = update_target(ctx, ctx.db, name, upsert)
    last_error: dict[str, Any] = {"n": 0}
    value = None
    ctx.use_collation(coll, body.get("collation"))
    if coll is not None:
        candidates = ctx.find(coll, query)
        if sort and len(candidates) > 1:
            by_doc = {id(d): k for k, d in candidates}
            candidates = [
                (by_doc[id(d)], d)
                for d in sort_docs([d for _, d in candidates], sort, ctx.collation)
            ]
        for key, _seen in candidates:
            if remove:
                old = await _current(ctx, coll, key)
                if old is None or not ctx.matches(query, old):
                    continue
                await _store(ctx, coll, key, old, None, "delete")
                last_error = {"n": 1}
                value = old
            else:
                done = await _update_one(ctx, coll, key, query, update, body.get("arrayFilters"))
                if done is None:
                    continue
                old, new = done
                last_error = {"n": 1, "updatedExisting": True}
                value = new if return_new else old
            break
        else:
            if upsert and not remove:
                doc = upsert_document(query, update, body.get("arrayFilters"), ctx.let)
                check_document(doc)
                await ctx.insert(coll, doc)
                last_error = {"n": 1, "updatedExisting": False, "upserted": doc["_id"]}
                value = doc if return_new else None
    if value is not None and fields:
        value = project(value, fields, query, ctx.let)
    return {"lastErrorObject": last_error, "value": value, "ok": 1.0}

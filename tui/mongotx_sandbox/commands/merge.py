"""The aggregation `$merge` stage: write the pipeline's results into a collection.

Each result document is matched against the target on the `on` fields (default `_id`;
other fields need a unique index covering exactly them) and then, as the server's
MergeProcessor does, written as one update statement through the update command's helper:

    whenMatched   replace       the result replaces the target document
                  merge         {$set: result} (top-level fields overwrite)
                  keepExisting  the target document is left as it is
                  fail          a plain insert, so the match is a DuplicateKey (11000)
                  [pipeline]    a pipeline update; $$new is the result (plus `let`)
    whenNotMatched insert / discard / fail (13113)

Like the server, $merge is not atomic: documents written before an error stay written.
"""

from __future__ import annotations

from typing import Any

from .. import engine
from ..access import OpContext, check_namespace, engine_error
from ..errors import CommandError
from ..store import Collection
from .common import check_document, with_id_first, write_collection
from .crud import update_statement

_MATCHED_MODES = ("replace", "keepExisting", "merge", "fail")
_NOT_MATCHED_MODES = ("insert", "discard", "fail")
# Mode pairs the server refuses (document_source_merge.cpp kSupportedModes).
_UNSUPPORTED = {
    ("keepExisting", "fail"),
    ("keepExisting", "discard"),
    ("fail", "fail"),
    ("fail", "discard"),
}
_FIELDS = ("into", "on", "let", "whenMatched", "whenNotMatched", "targetCollectionVersion")


def _parse(ctx: OpContext, spec: Any) -> tuple[str, str, list[str], Any, str, dict | None]:
    if isinstance(spec, str):
        spec = {"into": spec}
    if not isinstance(spec, dict):
        raise CommandError(
            51182,
            f"$merge only supports a string or object argument, not {engine.type_name(spec)}",
        )
    for key in spec:
        if key not in _FIELDS:
            raise CommandError(40415, f"BSON field '$merge.{key}' is an unknown field.")
    if "into" not in spec:
        raise CommandError(40414, "BSON field '$merge.into' is missing but a required field")
    into = spec["into"]
    if isinstance(into, str):
        db, name = ctx.db, into
    elif isinstance(into, dict):
        db = into.get("db", ctx.db)
        name = into.get("coll")
        if not isinstance(db, str) or not isinstance(name, str):
            raise CommandError(
                13111, "$merge 'into' object must have string 'db' and 'coll' fields"
            )
    else:
        raise CommandError(
            51178,
            "$merge 'into' field must be either a string or an object, but found "
            + engine.type_name(into),
        )
    if not name:
        raise CommandError(73, "Invalid $merge target namespace: empty collection name")
    check_namespace(db, name)

    on_spec = spec.get("on", "_id")
    if isinstance(on_spec, str):
        on = [on_spec]
    elif isinstance(on_spec, list):
        if not on_spec:
            raise CommandError(
                51187, "If explicitly specifying $merge 'on', must include at least one field"
            )
        if not all(isinstance(f, str) for f in on_spec):
            raise CommandError(51134, "$merge 'on' array elements must be strings")
        on = list(on_spec)
    else:
        raise CommandError(
            51186,
            "$merge 'on' field must be either a string or an array of strings, but found "
            + engine.type_name(on_spec),
        )
    if len(set(on)) != len(on):
        raise CommandError(31465, "Found a duplicate field in $merge 'on'")

    matched = spec.get("whenMatched", "merge")
    if isinstance(matched, list):
        if not all(isinstance(stage, dict) and len(stage) == 1 for stage in matched):
            raise CommandError(
                40323, "A pipeline stage specification object must contain exactly one field."
            )
    elif matched not in _MATCHED_MODES:
        raise CommandError(
            2, f"Enumeration value '{matched}' for field '$merge.whenMatched' is not a valid value."
        )
    not_matched = spec.get("whenNotMatched", "insert")
    if not_matched not in _NOT_MATCHED_MODES:
        raise CommandError(
            2,
            f"Enumeration value '{not_matched}' for field '$merge.whenNotMatched' is not a valid "
            "value.",
        )
    if isinstance(matched, str) and (matched, not_matched) in _UNSUPPORTED:
        raise CommandError(
            51181,
            f"Combination of $merge modes 'whenMatched: {matched}' and 'whenNotMatched: "
            f"{not_matched}' is not supported",
        )

    let = spec.get("let")
    if let is not None:
        if not isinstance(let, dict):
            raise CommandError(14, "BSON field '$merge.let' is the wrong type, expected object")
        if not isinstance(matched, list):
            raise CommandError(
                51199, f"Cannot use 'let' variables with 'whenMatched: {matched}' mode"
            )
        if "new" in let and let["new"] != "$$ROOT":
            raise CommandError(
                51273,
                "'let' may not define a value for the reserved 'new' variable other than '$$ROOT'",
            )
    return db, name, on, matched, not_matched, let


def _check_unique_index(coll: Collection | None, on: list[str]) -> None:
    """`on` must be _id or exactly the fields of a unique index (else error 51183)."""
    if on == ["_id"]:
        return
    if coll is not None:
        for index in coll.indexes.values():
            if index.unique and not index.options.get("partialFilterExpression"):
                if set(index.key) == set(on) and len(index.key) == len(on):
                    return
    raise CommandError(51183, "Cannot find index to verify that join fields will be unique")


def _on_query(doc: dict[str, Any], on: list[str]) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for path in on:
        value: Any = doc
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or isinstance(value, list):
            raise CommandError(
                51132,
                f"$merge write error: 'on' field '{path}' cannot be missing, null, undefined or "
                "an array",
            )
        query[path] = {"$eq": value} if isinstance(value, dict) else value
    return query


def _variables(ctx: OpContext, let: dict | None, doc: dict[str, Any]) -> dict[str, Any]:
    """The whenMatched pipeline's variables: the command's, $$new, then `let` (evaluated
    against the result document)."""
    variables = dict(ctx.let or {})
    variables["new"] = doc
    user = {k: v for k, v in (let or {}).items() if k != "new"}
    if user:
        try:
            out = engine.run_pipeline([doc], [{"$replaceWith": {"v": user}}], let=ctx.let)
        except engine.EngineError as exc:
            raise engine_error(exc) from exc
        variables.update(out[0].get("v", {}) if out else {})
    return variables


async def write_merge(ctx: OpContext, spec: Any, docs: list[dict[str, Any]]) -> None:
    """Write `docs` (the pipeline's results) as the `$merge` stage `spec` directs."""
    db, name, on, matched, not_matched, let = _parse(ctx, spec)
    existing = ctx.collection(db, name)
    if existing is not None and existing.is_view:
        raise CommandError(
            166, f"Cannot write to view {db}.{name}; $merge target must be a collection"
        )
    _check_unique_index(existing, on)
    coll: Collection | None = existing
    for raw in docs:
        doc = with_id_first(dict(raw)) if on == ["_id"] else dict(raw)
        query = _on_query(doc, on)
        if matched == "fail":
            # The server inserts: a match surfaces as the unique index's DuplicateKey.
            coll = coll or write_collection(ctx, db, name)
            await _insert(ctx, coll, doc)
            continue
        if coll is not None and await _update(ctx, coll, query, doc, matched, let):
            continue
        if not_matched == "insert":
            coll = coll or write_collection(ctx, db, name)
            await _insert(ctx, coll, doc)
        elif not_matched == "fail":
            raise CommandError(
                13113,
                "$merge could not find a matching document in the target collection for at "
                "least one document in the source collection",
            )


async def _update(
    ctx: OpContext,
    coll: Collection,
    query: dict[str, Any],
    doc: dict[str, Any],
    matched: Any,
    let: dict[str, Any] | None,
) -> bool:
    """Apply whenMatched to the target document matching `query`; False if none matched."""
    if matched == "replace":
        update: Any = doc
    elif matched == "merge":
        update = {"$set": doc}
    elif matched == "keepExisting":
        update = {"$setOnInsert": doc}
    else:
        update = matched
    saved_let = ctx.let
    if isinstance(matched, list):
        ctx.let = _variables(ctx, let, doc)
    try:
        n, _, _, _ = await update_statement(ctx, coll, {"q": query, "u": update})
    finally:
        ctx.let = saved_let
    return n > 0


async def _insert(ctx: OpContext, coll: Collection, doc: dict[str, Any]) -> None:
    doc = with_id_first(doc)
    check_document(doc)
    await ctx.insert(coll, doc)

"""Helpers shared by the command handlers: argument checks, namespaces, document rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import bson
from bson.decimal128 import Decimal128
from bson.objectid import ObjectId

from .. import engine
from ..access import OpContext, engine_error
from ..errors import CommandError
from ..store import Collection
from ..wire import MAX_BSON_OBJECT_SIZE

# Fields any command may carry beside its own (server: the IDL's generic arguments,
# src/mongo/idl/generic_argument.idl): a command that checks for unknown fields skips them.
GENERIC_ARGUMENTS = frozenset(
    {
        "$db",
        "$clusterTime",
        "$readPreference",
        "$client",
        "$audit",
        "lsid",
        "txnNumber",
        "autocommit",
        "startTransaction",
        "stmtId",
        "maxTimeMS",
        "readConcern",
        "writeConcern",
        "comment",
        "apiVersion",
        "apiStrict",
        "apiDeprecationErrors",
    }
)


def coll_name(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if type(value) is not str or not value:
        # Code is a str subclass to Python, a javascript value to mongod
        # [srv:db/commands.cpp CommandHelpers::parseNsCollectionRequired].
        raise CommandError(73, f"collection name has invalid type {engine.type_name(value)}")
    return value


def get_list(body: dict[str, Any], field: str, required: bool = True) -> list[Any]:
    value = body.get(field)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise CommandError(
            40414 if value is None else 14,
            f"BSON field '{field}' is missing but a required field"
            if value is None
            else f"BSON field '{field}' is the wrong type '{engine.type_name(value)}', expected type 'array'",
        )
    return value


def get_doc(body: dict[str, Any], field: str, default: Any = None) -> Any:
    value = body.get(field, default)
    if value is not None and not isinstance(value, dict):
        raise CommandError(
            14,
            f"BSON field '{field}' is the wrong type '{engine.type_name(value)}', expected type 'object'",
        )
    return value


def integer_arg(value: Any, field: str) -> int:
    """An integer argument as mongod reads one: any number with an integral value (a
    double `2.0` too); a fractional one is refused (issue 17, D13)
    [srv:bson/bsonelement.cpp parseIntegerElementToLong, behind the IDL's safeInt types]."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal128):
        raise CommandError(
            14,
            f"BSON field '{field}' is the wrong type '{engine.type_name(value)}', expected types "
            "'[long, int, decimal, double]'",
        )
    number = Decimal(str(value)) if isinstance(value, float) else value
    if isinstance(number, Decimal128):
        number = number.to_decimal()
    if isinstance(number, Decimal) and (not number.is_finite() or number != int(number)):
        raise CommandError(9, f"Expected an integer: {field}: {value}")
    return int(number)


def cursor_batch_size(body: dict[str, Any]) -> int | None:
    """The `cursor: {batchSize}` option of list commands, checked like the server does."""
    cursor = get_doc(body, "cursor")
    if not cursor or "batchSize" not in cursor:
        return None
    size = integer_arg(cursor["batchSize"], "batchSize")
    if size < 0:
        raise CommandError(51024, "BSON field 'batchSize' value must be >= 0")
    return size


def with_id_first(doc: dict[str, Any]) -> dict[str, Any]:
    """MongoDB stores `_id` first, generating an ObjectId when the client sent none."""
    if "_id" in doc:
        if next(iter(doc)) == "_id":
            return doc
        out = {"_id": doc["_id"]}
        out.update((k, v) for k, v in doc.items() if k != "_id")
        return out
    out = {"_id": ObjectId()}
    out.update(doc)
    return out


def check_document(doc: dict[str, Any]) -> None:
    if len(bson.encode(doc)) > MAX_BSON_OBJECT_SIZE:
        raise CommandError(10334, "object to insert exceeds the maximum BSON document size")
    doc_id = doc.get("_id")
    if isinstance(doc_id, list):
        raise CommandError(2, "can't use an array for _id")
    if isinstance(doc_id, dict):
        for key in doc_id:
            if key.startswith("$"):
                raise CommandError(
                    53,
                    f"_id fields may not contain '$'-prefixed fields: {key} is not valid for storage.",
                )


def same_document(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Byte-for-byte BSON equality: 1 and 1.0, or True and 1, are different values."""
    if a is None or b is None:
        return a is b
    return bson.encode(a) == bson.encode(b)


def compute_update(
    old: dict[str, Any],
    update: Any,
    *,
    array_filters: list[Any] | None,
    query: dict[str, Any] | None,
    upsert_insert: bool = False,
    let: dict[str, Any] | None = None,
) -> dict[str, Any]:
    try:
        if is_replacement(update):
            return engine.apply_replacement(old, update)
        return engine.apply_update(
            old,
            update,
            array_filters=array_filters,
            query=query,
            is_upsert_insert=upsert_insert,
            let=let,
        )
    except engine.EngineError as exc:
        raise engine_error(exc) from exc


def parse_update(update: Any, array_filters: Any) -> None:
    """Refuse a malformed update before matching anything, as mongod does (issue 17): an
    unknown modifier is 9 FailedToParse on an empty collection too."""
    try:
        engine.parse_update(update, array_filters)
    except engine.EngineError as exc:
        raise engine_error(exc) from exc


def is_replacement(update: Any) -> bool:
    return isinstance(update, dict) and not any(k.startswith("$") for k in update)


def upsert_document(
    query: dict[str, Any],
    update: Any,
    array_filters: list[Any] | None,
    let: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The document an upsert inserts: the query's equality fields, then the update."""
    try:
        seed = engine.upsert_seed(query)
    except engine.EngineError as exc:
        raise engine_error(exc) from exc
    if is_replacement(update):
        # A replacement keeps only the query's _id (update.cpp: replacement upserts).
        doc = (
            {"_id": seed["_id"], **update}
            if "_id" in seed and "_id" not in update
            else dict(update)
        )
    else:
        doc = compute_update(
            seed, update, array_filters=array_filters, query=query, upsert_insert=True, let=let
        )
    return with_id_first(doc)


def sort_docs(
    docs: list[dict[str, Any]],
    sort: dict[str, Any] | None,
    collation: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    if not sort:
        return docs
    try:
        return engine.sort_documents(docs, sort, collation=collation)
    except engine.EngineError as exc:
        raise engine_error(exc) from exc


def project(
    doc: dict[str, Any],
    projection: dict[str, Any] | None,
    query: dict[str, Any] | None = None,
    let: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if not projection:
        return doc
    try:
        return engine.apply_projection(doc, projection, query=query, let=let)
    except engine.EngineError as exc:
        raise engine_error(exc) from exc


def write_collection(ctx: OpContext, db: str, name: str) -> Collection:
    """The target of a write (created implicitly), refusing what transactions may not touch."""
    check_write_target(ctx, db, name)
    return ctx.ensure_collection(db, name)


def update_target(ctx: OpContext, db: str, name: str, upsert: bool) -> Collection | None:
    """An update's collection: only an upsert creates a missing one; an update of a missing
    collection matches nothing (issue 17, D7) [srv:db/ops/write_ops_exec.cpp
    performSingleUpdateOp: "An update on a non-existent collection is okay"]."""
    if upsert:
        return write_collection(ctx, db, name)
    check_write_target(ctx, db, name)
    return ctx.collection(db, name)


def check_write_target(ctx: OpContext, db: str, name: str) -> None:
    """Refuse a write a transaction may not make to `db.name`."""
    if ctx.txn is not None:
        if name.startswith("system."):
            raise CommandError(
                50791, f"Cannot write to system collection {db}.{name} within a transaction."
            )
        ctx.check_writable(db, name)
        coll = ctx.collection(db, name)
        if coll is not None and coll.options.get("capped"):
            raise CommandError(
                263,
                f"Collection '{db}.{name}' is a capped collection. Writes in transactions are "
                "not allowed on capped collections.",
            )

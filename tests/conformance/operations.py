"""Dispatch entity operations: check and convert arguments, then call the named handler."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.synchronous.change_stream import ChangeStream
from pymongo.synchronous.collection import Collection
from pymongo.synchronous.database import Database

from . import crud_ops as crud
from . import entity_ops as ent
from .entities import EntityMap
from .options import TXN_OPTIONS, read_concern, read_preference, write_concern
from .requirements import Unsupported

Handler = Callable[[Any, dict[str, Any], "OpContext"], Any]

# camelCase argument → pymongo keyword; names not listed pass through unchanged, and pymongo
# sends unknown keywords on to the server command.
_KWARGS = {
    "filter": "filter",
    "update": "update",
    "replacement": "replacement",
    "document": "document",
    "documents": "documents",
    "upsert": "upsert",
    "arrayFilters": "array_filters",
    "bypassDocumentValidation": "bypass_document_validation",
    "collation": "collation",
    "hint": "hint",
    "let": "let",
    "comment": "comment",
    "sort": "sort",
    "ordered": "ordered",
    "projection": "projection",
    "skip": "skip",
    "limit": "limit",
    "batchSize": "batch_size",
    "allowDiskUse": "allow_disk_use",
    "maxTimeMS": "max_time_ms",
    "pipeline": "pipeline",
    "fieldName": "key",
    "session": "session",
    "readConcern": "read_concern",
    "writeConcern": "write_concern",
    "readPreference": "read_preference",
}


class OpContext:
    """What an operation may need besides its object: entities and the server version."""

    def __init__(self, entities: EntityMap, server_version: tuple[int, int, int]) -> None:
        self.entities = entities
        self.server_version = server_version
        self.run_callback: Callable[[list[Mapping[str, Any]]], None] | None = None


def convert(
    args: Mapping[str, Any], ctx: OpContext, allowed: set[str], rename: Mapping[str, str]
) -> dict[str, Any]:
    """Check argument names and convert values (session, concerns, rawData) to pymongo kwargs."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key not in allowed:
            raise Unsupported(f"runner lacks argument {key!r} for this operation")
        if key == "rawData":
            if ctx.server_version >= (8, 2, 0):
                raise Unsupported("runner lacks rawData (server >= 8.2)")
            continue
        if key == "session":
            value = ctx.entities.get(value, ClientSession)
        elif key == "readConcern":
            value = read_concern(value)
        elif key == "writeConcern":
            value = write_concern(value)
        elif key == "readPreference":
            value = read_preference(value)
        out[rename.get(key, _KWARGS.get(key, key))] = value
    return out


_COMMON = {"session", "comment", "rawData", "let"}
_FILTER = {"filter", "collation", "hint"}
_UPDATE = _COMMON | _FILTER | {"upsert", "bypassDocumentValidation"}
_FIND = _COMMON | _FILTER | {"sort", "skip", "projection", "allowDiskUse", "maxTimeMS"}
_FAM = _COMMON | _FILTER | {"sort", "projection", "maxTimeMS"}
_FAM_WRITE = _FAM | {"upsert", "returnDocument", "bypassDocumentValidation"}
_AGGREGATE = _COMMON | {"pipeline", "batchSize", "allowDiskUse", "collation", "hint"}
_AGGREGATE |= {"maxTimeMS", "bypassDocumentValidation"}
_TXN = set(TXN_OPTIONS)
_STREAM = {"pipeline", "fullDocument", "fullDocumentBeforeChange", "resumeAfter", "startAfter"}
_STREAM |= {"startAtOperationTime", "maxAwaitTimeMS", "batchSize", "collation", "comment"}
_STREAM |= {"showExpandedEvents", "session"}
_CREATE = {"collection", "session", "viewOn", "pipeline", "capped", "size", "max", "validator"}
_CREATE |= {"expireAfterSeconds", "timeseries", "clusteredIndex", "changeStreamPreAndPostImages"}
_CLIENT_BULK = {"models", "ordered", "verboseResults", "bypassDocumentValidation", "comment"}
_CLIENT_BULK |= {"let", "session", "writeConcern", "rawData"}
_INDEX = {"session", "comment"}

# Keyword renames beyond `_KWARGS`: pymongo passes unknown keywords on to the server, so
# these keep their camelCase spelling (or take a watch()/transaction-specific name).
_PASS = {"maxTimeMS": "maxTimeMS", "batchSize": "batchSize"}
_FAM_PASS = {"bypassDocumentValidation": "bypassDocumentValidation", **_PASS}
_STREAM_RENAME = {
    "fullDocument": "full_document",
    "fullDocumentBeforeChange": "full_document_before_change",
    "resumeAfter": "resume_after",
    "startAfter": "start_after",
    "startAtOperationTime": "start_at_operation_time",
    "maxAwaitTimeMS": "max_await_time_ms",
    "showExpandedEvents": "show_expanded_events",
}
_TXN_RENAME = {"maxCommitTimeMS": "max_commit_time_ms"}

Spec = tuple[Handler, set[str], Mapping[str, str]]
_stream: Spec = (crud.watch, _STREAM, _STREAM_RENAME)
_aggregate: Spec = (crud.aggregate, _AGGREGATE, {})

# operation name → {entity type: (handler, allowed arguments, keyword renames)}
OPERATIONS: dict[str, dict[type, Spec]] = {
    "insertOne": {Collection: (crud.insert_one, _UPDATE | {"document"}, {})},
    "insertMany": {Collection: (crud.insert_many, _UPDATE | {"documents", "ordered"}, {})},
    "updateOne": {Collection: (crud.update_one, _UPDATE | {"update", "arrayFilters", "sort"}, {})},
    "updateMany": {Collection: (crud.update_many, _UPDATE | {"update", "arrayFilters"}, {})},
    "replaceOne": {Collection: (crud.replace_one, _UPDATE | {"replacement", "sort"}, {})},
    "deleteOne": {Collection: (crud.delete_one, _COMMON | _FILTER, {})},
    "deleteMany": {Collection: (crud.delete_many, _COMMON | _FILTER, {})},
    "find": {Collection: (crud.find, _FIND | {"limit", "batchSize"}, {})},
    "findOne": {Collection: (crud.find_one, _FIND, {})},
    "findOneAndDelete": {Collection: (crud.find_one_and_delete, _FAM, _PASS)},
    "findOneAndReplace": {
        Collection: (crud.find_one_and_replace, _FAM_WRITE | {"replacement"}, _FAM_PASS)
    },
    "findOneAndUpdate": {
        Collection: (crud.find_one_and_update, _FAM_WRITE | {"update", "arrayFilters"}, _FAM_PASS)
    },
    "aggregate": {Collection: _aggregate, Database: _aggregate},
    "distinct": {
        Collection: (crud.distinct, _COMMON | _FILTER | {"fieldName", "maxTimeMS"}, _PASS)
    },
    "countDocuments": {
        Collection: (crud.count_documents, _COMMON | _FILTER | {"skip", "limit", "maxTimeMS"}, {})
    },
    "estimatedDocumentCount": {
        Collection: (crud.estimated_document_count, {"comment", "maxTimeMS", "rawData"}, {})
    },
    "count": {Collection: (crud.count, _COMMON | _FILTER | {"skip", "limit", "maxTimeMS"}, {})},
    "bulkWrite": {
        Collection: (
            crud.bulk_write,
            _COMMON | {"requests", "ordered", "bypassDocumentValidation"},
            {},
        )
    },
    "createIndex": {Collection: (crud.create_index, _INDEX | {"keys", "name", "unique"}, {})},
    "dropIndex": {Collection: (crud.drop_index, _INDEX | {"name"}, {})},
    "listIndexes": {Collection: (crud.list_indexes, _INDEX, {})},
    "listIndexNames": {Collection: (crud.list_index_names, _INDEX, {})},
    "rename": {Collection: (crud.rename, _INDEX | {"to", "dropTarget"}, {})},
    "createChangeStream": {Collection: _stream, Database: _stream, MongoClient: _stream},
    "createCollection": {Database: (ent.create_collection, _CREATE, {"pipeline": "pipeline"})},
    "dropCollection": {Database: (ent.drop_collection, _INDEX | {"collection"}, {})},
    "listCollections": {Database: (ent.list_collections, _INDEX | {"filter", "batchSize"}, {})},
    "listCollectionNames": {Database: (ent.list_collection_names, _INDEX | {"filter"}, {})},
    "runCommand": {
        Database: (
            ent.run_command,
            {"command", "commandName", "readPreference", "session"},
            {"commandName": "commandName"},
        )
    },
    "modifyCollection": {
        Database: (
            ent.modify_collection,
            {"collection", "validator", "session", "changeStreamPreAndPostImages"},
            {},
        )
    },
    "listDatabases": {MongoClient: (ent.list_databases, _INDEX | {"filter"}, {})},
    "listDatabaseNames": {MongoClient: (ent.list_database_names, _INDEX | {"filter"}, {})},
    "clientBulkWrite": {MongoClient: (ent.client_bulk_write, _CLIENT_BULK, {})},
    "startTransaction": {ClientSession: (ent.start_transaction, _TXN, _TXN_RENAME)},
    "commitTransaction": {ClientSession: (ent.commit_transaction, set(), {})},
    "abortTransaction": {ClientSession: (ent.abort_transaction, set(), {})},
    "endSession": {ClientSession: (ent.end_session, set(), {})},
    "getSnapshotTime": {ClientSession: (ent.get_snapshot_time, set(), {})},
    "withTransaction": {ClientSession: (ent.with_transaction, _TXN | {"callback"}, _TXN_RENAME)},
    "iterateUntilDocumentOrError": {ChangeStream: (ent.iterate_until_document_or_error, set(), {})},
    "iterateOnce": {ChangeStream: (ent.iterate_once, set(), {})},
    "close": {ChangeStream: (ent.close, set(), {})},
}


def resolve(
    ctx: OpContext, name: str, object_name: str, args: Mapping[str, Any]
) -> Callable[[], Any]:
    """Look up entity and handler, convert arguments; return a thunk that runs the operation."""
    entity = ctx.entities.get(object_name)
    by_type = OPERATIONS.get(name)
    if by_type is None:
        raise Unsupported(f"runner lacks operation {name!r}")
    for kind, (handler, allowed, rename) in by_type.items():
        if isinstance(entity, kind):
            kwargs = convert(args, ctx, allowed, rename)
            return lambda: handler(entity, kwargs, ctx)
    raise Unsupported(f"runner lacks operation {name!r} on {type(entity).__name__}")

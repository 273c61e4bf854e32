"""Collection operations (CRUD, bulk writes, indexes): one handler per operation name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bson import SON
from pymongo import (
    DeleteMany,
    DeleteOne,
    InsertOne,
    ReplaceOne,
    ReturnDocument,
    UpdateMany,
    UpdateOne,
)
from pymongo.errors import BulkWriteError
from pymongo.synchronous.collection import Collection
from pymongo.synchronous.database import Database

from . import results
from .requirements import Unsupported

if TYPE_CHECKING:
    from .operations import OpContext

_MODEL_ARGS = {"arrayFilters": "array_filters"}


def _sort_list(kwargs: dict[str, Any]) -> None:
    if isinstance(kwargs.get("sort"), Mapping):
        kwargs["sort"] = list(kwargs["sort"].items())


def _return_document(kwargs: dict[str, Any]) -> None:
    value = kwargs.pop("returnDocument", None)
    if value is not None:
        if value.lower() not in ("before", "after"):
            raise Unsupported(f"returnDocument {value!r}")
        kwargs["return_document"] = (
            ReturnDocument.AFTER if value.lower() == "after" else ReturnDocument.BEFORE
        )


def insert_one(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return results.insert_one(coll.insert_one(**kw))


def insert_many(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return results.insert_many(coll.insert_many(**kw))


def update_one(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return results.update(coll.update_one(**kw))


def update_many(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return results.update(coll.update_many(**kw))


def replace_one(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return results.update(coll.replace_one(**kw))


def delete_one(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return results.delete(coll.delete_one(**kw))


def delete_many(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return results.delete(coll.delete_many(**kw))


def find(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    _sort_list(kw)
    return list(coll.find(**kw))


def find_one(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    _sort_list(kw)
    return coll.find_one(**kw)


def find_one_and_delete(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    _sort_list(kw)
    return coll.find_one_and_delete(**kw)


def find_one_and_replace(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    _sort_list(kw)
    _return_document(kw)
    return coll.find_one_and_replace(**kw)


def find_one_and_update(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    _sort_list(kw)
    _return_document(kw)
    return coll.find_one_and_update(**kw)


def aggregate(target: Collection[Any] | Database[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    pipeline = kw.pop("pipeline")
    if "batch_size" in kw:
        kw["batchSize"] = kw.pop("batch_size")
    if "allow_disk_use" in kw:
        kw["allowDiskUse"] = kw.pop("allow_disk_use")
    if "max_time_ms" in kw:
        kw["maxTimeMS"] = kw.pop("max_time_ms")
    if "bypass_document_validation" in kw:
        kw["bypassDocumentValidation"] = kw.pop("bypass_document_validation")
    return list(target.aggregate(pipeline, **kw))


def distinct(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    kw.setdefault("filter", {})
    return coll.distinct(**kw)


def count_documents(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    kw.setdefault("filter", {})
    if "max_time_ms" in kw:
        kw["maxTimeMS"] = kw.pop("max_time_ms")
    return coll.count_documents(**kw)


def estimated_document_count(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    if "max_time_ms" in kw:
        kw["maxTimeMS"] = kw.pop("max_time_ms")
    return coll.estimated_document_count(**kw)


def count(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    """The deprecated `count` helper (gone from pymongo 4): a plain `count` command."""
    session = kw.pop("session", None)
    command = SON([("count", coll.name), ("query", kw.pop("filter", {}))])
    for key in ("skip", "limit", "collation", "hint", "comment"):
        if key in kw:
            command[key] = kw.pop(key)
    if "max_time_ms" in kw:
        command["maxTimeMS"] = kw.pop("max_time_ms")
    in_txn = session is not None and session.in_transaction
    if coll.read_concern.document and not in_txn:
        command["readConcern"] = coll.read_concern.document
    reply = coll.database.command(command, session=session, read_preference=coll.read_preference)
    return reply["n"]


def write_models(requests: list[Mapping[str, Any]], *, with_namespace: bool) -> list[Any]:
    models: list[Any] = []
    for request in requests:
        ((kind, spec),) = request.items()
        kw = {_MODEL_ARGS.get(k, k): v for k, v in spec.items()}
        if not with_namespace and "namespace" in kw:
            raise Unsupported("namespace in collection bulkWrite")
        cls = {
            "insertOne": InsertOne,
            "updateOne": UpdateOne,
            "updateMany": UpdateMany,
            "replaceOne": ReplaceOne,
            "deleteOne": DeleteOne,
            "deleteMany": DeleteMany,
        }.get(kind)
        if cls is None:
            raise Unsupported(f"runner lacks write model {kind!r}")
        models.append(cls(**kw))
    return models


def bulk_write(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    models = write_models(kw.pop("requests"), with_namespace=False)
    try:
        result = coll.bulk_write(models, **kw)
    except BulkWriteError as exc:
        exc.spec_inserted_ids = results.inserted_ids(models)  # type: ignore[attr-defined]
        raise
    return results.bulk(result, results.inserted_ids(models))


def create_index(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    keys = list(kw.pop("keys").items())
    return coll.create_index(keys, **kw)


def drop_index(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    coll.drop_index(kw.pop("name"), **kw)


def list_indexes(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return list(coll.list_indexes(**kw))


def list_index_names(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    return [index["name"] for index in coll.list_indexes(**kw)]


def rename(coll: Collection[Any], kw: dict[str, Any], ctx: OpContext) -> Any:
    coll.rename(kw.pop("to"), **kw)


def watch(target: Any, kw: dict[str, Any], ctx: OpContext) -> Any:
    return target.watch(**kw)

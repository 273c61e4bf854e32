"""Convert pymongo result objects into the documents the test format describes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.results import (
    BulkWriteResult,
    ClientBulkWriteResult,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)

_UNACKNOWLEDGED = {"acknowledged": False}


def insert_one(result: InsertOneResult) -> dict[str, Any]:
    if not result.acknowledged:
        return dict(_UNACKNOWLEDGED)
    return {"insertedId": result.inserted_id}


def insert_many(result: InsertManyResult) -> dict[str, Any]:
    if not result.acknowledged:
        return dict(_UNACKNOWLEDGED)
    return {"insertedIds": {str(i): _id for i, _id in enumerate(result.inserted_ids)}}


def update(result: UpdateResult) -> dict[str, Any]:
    if not result.acknowledged:
        return dict(_UNACKNOWLEDGED)
    doc: dict[str, Any] = {
        "matchedCount": result.matched_count,
        "modifiedCount": result.modified_count,
        "upsertedCount": 0 if result.upserted_id is None else 1,
    }
    if result.upserted_id is not None:
        doc["upsertedId"] = result.upserted_id
    return doc


def delete(result: DeleteResult) -> dict[str, Any]:
    if not result.acknowledged:
        return dict(_UNACKNOWLEDGED)
    return {"deletedCount": result.deleted_count}


def bulk_from_raw(raw: Mapping[str, Any], inserted_ids: Mapping[str, Any]) -> dict[str, Any]:
    """A BulkWriteResult document from pymongo's raw bulk counters."""
    upserted = {str(u["index"]): u["_id"] for u in raw.get("upserted", [])}
    return {
        "deletedCount": raw.get("nRemoved", 0),
        "insertedCount": raw.get("nInserted", 0),
        "insertedIds": dict(inserted_ids),
        "matchedCount": raw.get("nMatched", 0),
        "modifiedCount": raw.get("nModified", 0),
        "upsertedCount": raw.get("nUpserted", 0),
        "upsertedIds": upserted,
    }


def bulk(result: BulkWriteResult, inserted_ids: Mapping[str, Any]) -> dict[str, Any]:
    if not result.acknowledged:
        return dict(_UNACKNOWLEDGED)
    return bulk_from_raw(result.bulk_api_result, inserted_ids)


def inserted_ids(requests: Sequence[Any]) -> dict[str, Any]:
    """Index → `_id` of the insert models (pymongo fills in `_id` before sending)."""
    out = {}
    for index, request in enumerate(requests):
        document = getattr(request, "_doc", None)
        if type(request).__name__ == "InsertOne" and isinstance(document, Mapping):
            if "_id" in document:
                out[str(index)] = document["_id"]
    return out


def client_bulk(result: ClientBulkWriteResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    if not result.acknowledged:
        return dict(_UNACKNOWLEDGED)
    doc: dict[str, Any] = {
        "insertedCount": result.inserted_count,
        "upsertedCount": result.upserted_count,
        "matchedCount": result.matched_count,
        "modifiedCount": result.modified_count,
        "deletedCount": result.deleted_count,
    }
    if result.has_verbose_results:
        doc["insertResults"] = {
            str(k): {"insertedId": v.inserted_id} for k, v in result.insert_results.items()
        }
        doc["updateResults"] = {str(k): _client_update(v) for k, v in result.update_results.items()}
        doc["deleteResults"] = {str(k): delete(v) for k, v in result.delete_results.items()}
    return doc


def _client_update(result: UpdateResult) -> dict[str, Any]:
    doc = {"matchedCount": result.matched_count, "modifiedCount": result.modified_count}
    if result.upserted_id is not None:
        doc["upsertedId"] = result.upserted_id
    return doc

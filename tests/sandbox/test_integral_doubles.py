"""mongod reads an integral double where it wants an integer, and refuses a fractional one
(issue 17, D13) [srv:bson/bsonelement.cpp parseIntegerElementToLong, used by the IDL's
safeInt types]."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from .rawclient import RawClient


@pytest.fixture
def three(coll):  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i} for i in range(3)])
    return coll


def test_find_batch_size(three) -> None:  # type: ignore[no-untyped-def]
    reply = three.database.command({"find": three.name, "batchSize": 2.0})
    assert len(reply["cursor"]["firstBatch"]) == 2


def test_find_fractional_batch_size_refused(raw: RawClient, three) -> None:  # type: ignore[no-untyped-def]
    reply = raw.command({"find": three.name, "batchSize": 2.5}, db="test")
    assert (reply["ok"], reply["code"]) == (0, 9)


def test_get_more_batch_size(three) -> None:  # type: ignore[no-untyped-def]
    first = three.database.command({"find": three.name, "batchSize": 1})
    cid = first["cursor"]["id"]
    reply = three.database.command({"getMore": cid, "collection": three.name, "batchSize": 1.0})
    assert len(reply["cursor"]["nextBatch"]) == 1


def test_aggregate_and_list_batch_size(three) -> None:  # type: ignore[no-untyped-def]
    db = three.database
    reply = db.command({"aggregate": three.name, "pipeline": [], "cursor": {"batchSize": 1.0}})
    assert len(reply["cursor"]["firstBatch"]) == 1
    reply = db.command({"listIndexes": three.name, "cursor": {"batchSize": 1.0}})
    assert len(reply["cursor"]["firstBatch"]) == 1


def test_client_bulk_write_batch_size(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    ops = [{"insert": 0, "document": {"_id": i}} for i in range(2)]
    reply = client.admin.command(
        {
            "bulkWrite": 1,
            "ops": ops,
            "nsInfo": [{"ns": coll.full_name}],
            "cursor": {"batchSize": 1.0},
        }
    )
    assert len(reply["cursor"]["firstBatch"]) == 1


def test_client_bulk_write_namespace_index(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    """The legacy shell sends every number as a double, the index of `nsInfo` too (the
    jstest bulk_write_getMore.js failed on it with 14)."""
    ops = [{"insert": 0.0, "document": {"_id": 1}}]
    reply = client.admin.command({"bulkWrite": 1, "ops": ops, "nsInfo": [{"ns": coll.full_name}]})
    assert reply["nInserted"] == 1 and coll.count_documents({}) == 1

"""The catalog is part of a transaction's snapshot (issue 17, D2, D3 and their neighbours).

MongoDB 8.0 resolves a name to the collection it had at the transaction's snapshot; a write
to a collection that is no longer the latest one (dropped, renamed, dropped and created
again) fails at once with WriteConflict, and so does a write to one with a catalog change
(an index build) after a snapshot-level read timestamp [srv:db/shard_role.cpp
verifyDbAndCollection]. A name created by someone else after the snapshot is free in the
snapshot: the transaction may create it too, and its commit fails with WriteConflict
(jstests concurrent_drops_and_creates.js, 8.0 version).
"""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.errors import OperationFailure
from pymongo.read_concern import ReadConcern


def _started(client: MongoClient, coll: Collection, level: str | None = None) -> ClientSession:
    """A session whose transaction has taken its snapshot (a first read of `coll`)."""
    s = client.start_session()
    s.start_transaction(read_concern=ReadConcern(level) if level else None)
    coll.find_one({}, session=s)
    return s


def _write_conflict(err: pytest.ExceptionInfo[OperationFailure]) -> None:
    assert err.value.code == 112
    assert err.value.has_error_label("TransientTransactionError")


def test_insert_into_collection_created_after_snapshot(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    other = coll.database[coll.name + "_new"]
    other.drop()
    coll.insert_one({"_id": 0})
    s = _started(client, coll)
    other.insert_one({"_id": "outside"})
    assert other.find_one({}, session=s) is None  # not in the snapshot
    other.insert_one({"_id": "inside"}, session=s)
    with pytest.raises(OperationFailure) as err:
        s.commit_transaction()
    _write_conflict(err)
    s.end_session()
    assert list(other.find()) == [{"_id": "outside"}]


def test_explicit_create_raced_by_outside_create(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.drop()
    s = client.start_session()
    s.start_transaction()
    coll.database.command("create", coll.name, session=s)
    coll.insert_one({"_id": "inside"}, session=s)
    coll.database.command("create", coll.name)  # not blocked, and it wins
    with pytest.raises(OperationFailure) as err:
        s.commit_transaction()
    _write_conflict(err)
    s.end_session()
    assert list(coll.find()) == []


def test_collection_dropped_after_snapshot(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    other = coll.database[coll.name + "_gone"]
    other.insert_one({"_id": 1})
    coll.insert_one({"_id": 0})
    s = _started(client, coll)
    other.drop()  # the transaction has not used it: nothing to wait for
    assert list(other.find({}, session=s)) == [{"_id": 1}]  # read as at the snapshot
    with pytest.raises(OperationFailure) as err:
        other.insert_one({"_id": 2}, session=s)
    _write_conflict(err)
    s.end_session()
    assert other.name not in coll.database.list_collection_names()


@pytest.mark.parametrize("write", ["update", "upsert", "delete", "find_one_and_update"])
def test_every_write_to_a_dropped_collection_conflicts(
    client: MongoClient, coll, write: str
) -> None:  # type: ignore[no-untyped-def]
    other = coll.database[coll.name + "_gone"]
    other.insert_one({"_id": 1})
    coll.insert_one({"_id": 0})
    s = _started(client, coll)
    other.drop()
    with pytest.raises(OperationFailure) as err:
        if write == "update":
            other.update_one({"_id": 1}, {"$set": {"x": 1}}, session=s)
        elif write == "upsert":
            other.update_one({"_id": 5}, {"$set": {"x": 1}}, upsert=True, session=s)
        elif write == "delete":
            other.delete_one({"_id": 1}, session=s)
        else:
            other.find_one_and_update({"a": 1}, {"$set": {"a": 2}}, upsert=True, session=s)
    _write_conflict(err)
    s.end_session()
    assert other.name not in coll.database.list_collection_names()


def test_collection_dropped_and_created_again(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    other = coll.database[coll.name + "_again"]
    other.insert_one({"_id": 1})
    s = _started(client, coll)
    assert other.find_one({}, session=s) == {"_id": 1}
    s.abort_transaction()
    s.start_transaction()
    coll.find_one({}, session=s)
    other.drop()
    other.insert_one({"_id": 2})
    assert list(other.find({}, session=s)) == [{"_id": 1}]
    with pytest.raises(OperationFailure) as err:
        other.update_one({"_id": 1}, {"$set": {"x": 1}}, session=s)
    _write_conflict(err)
    s.end_session()
    assert list(other.find()) == [{"_id": 2}]


def test_collection_renamed_after_snapshot(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    source = coll.database[coll.name + "_src"]
    target = coll.database[coll.name + "_dst"]
    target.drop()
    source.insert_one({"_id": 1})
    coll.insert_one({"_id": 0})
    s = _started(client, coll)
    source.rename(target.name)
    assert list(source.find({}, session=s)) == [{"_id": 1}]
    assert target.find_one({}, session=s) is None
    with pytest.raises(OperationFailure) as err:
        source.insert_one({"_id": 2}, session=s)
    _write_conflict(err)
    s.end_session()

    target.drop()
    source.insert_one({"_id": 3})
    s = _started(client, coll)
    source.rename(target.name)
    target.insert_one({"_id": "inside"}, session=s)  # the name was free at the snapshot
    with pytest.raises(OperationFailure) as err:
        s.commit_transaction()
    _write_conflict(err)
    s.end_session()
    assert list(target.find()) == [{"_id": 3}]


def test_index_built_after_snapshot(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    other = coll.database[coll.name + "_idx"]
    other.insert_one({"_id": 1})
    coll.insert_one({"_id": 0})
    s = _started(client, coll, "snapshot")
    other.create_index("a")
    with pytest.raises(OperationFailure) as err:
        other.insert_one({"_id": 2}, session=s)
    _write_conflict(err)
    s.end_session()
    # Without a point-in-time read timestamp (level local) the server makes no such check.
    s = _started(client, coll, "local")
    other.create_index("b")
    other.insert_one({"_id": 3}, session=s)
    s.commit_transaction()
    s.end_session()
    assert other.count_documents({}) == 2


def test_unchanged_catalog_commits(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    other = coll.database[coll.name + "_ok"]
    other.drop()
    other.insert_one({"_id": 1})
    other.create_index("a")
    s = _started(client, coll, "snapshot")
    other.insert_one({"_id": 2}, session=s)
    coll.database[coll.name + "_fresh"].insert_one({"_id": 1}, session=s)
    s.commit_transaction()
    s.end_session()
    assert other.count_documents({}) == 2
    coll.database[coll.name + "_fresh"].drop()


def test_create_indexes_on_collection_dropped_after_snapshot(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    other = coll.database[coll.name + "_gone"]
    other.insert_one({"_id": 1})
    coll.insert_one({"_id": 0})
    s = _started(client, coll)
    other.drop()
    with pytest.raises(OperationFailure) as err:
        coll.database.command(
            {"createIndexes": other.name, "indexes": [{"key": {"_id": 1}, "name": "_id_"}]},
            session=s,
        )
    _write_conflict(err)
    s.end_session()


def test_at_cluster_time_before_a_drop(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    other = coll.database[coll.name + "_then"]
    other.insert_one({"_id": 1})
    before_drop = client.admin.command("ping")["operationTime"]
    other.drop()
    with client.start_session(causal_consistency=False) as s:
        s.start_transaction()
        reply = coll.database.command(
            {
                "find": other.name,
                "readConcern": {"level": "snapshot", "atClusterTime": before_drop},
            },
            session=s,
        )
        assert reply["cursor"]["firstBatch"] == [{"_id": 1}]
        with pytest.raises(OperationFailure) as err:
            other.update_one({"_id": 1}, {"$set": {"x": 1}}, session=s)
        _write_conflict(err)

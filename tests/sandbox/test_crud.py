"""CRUD round trips and index behaviour through pymongo."""

from __future__ import annotations

import pytest
from bson.int64 import Int64
from pymongo import ASCENDING, MongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure


def test_insert_find_sort_skip_limit_projection(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i, "n": i % 3, "s": f"x{i}"} for i in range(10)])
    docs = list(
        coll.find({"n": {"$gte": 1}}, {"s": 0}).sort([("n", -1), ("_id", 1)]).skip(1).limit(3)
    )
    assert docs == [{"_id": 5, "n": 2}, {"_id": 8, "n": 2}, {"_id": 1, "n": 1}]
    assert coll.count_documents({"n": 0}) == 4
    assert coll.estimated_document_count() == 10
    assert sorted(coll.distinct("n")) == [0, 1, 2]


def test_get_more_batches(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i} for i in range(250)])
    assert [d["_id"] for d in coll.find().sort("_id", 1).batch_size(7)] == list(range(250))


def test_updates(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": 1, "a": [1, 2, 3], "n": Int64(1)}, {"_id": 2, "a": [], "n": 5}])
    r = coll.update_many({}, {"$inc": {"n": 1}})
    assert (r.matched_count, r.modified_count) == (2, 2)
    assert isinstance(coll.find_one({"_id": 1})["n"], Int64)
    coll.update_one({"_id": 1}, {"$set": {"a.$[x]": 0}}, array_filters=[{"x": {"$gt": 1}}])
    assert coll.find_one({"_id": 1})["a"] == [1, 0, 0]
    r = coll.update_one({"_id": 3}, {"$set": {"up": True}}, upsert=True)
    assert r.upserted_id == 3
    coll.update_one({"_id": 2}, [{"$set": {"m": {"$add": ["$n", 10]}}}])
    assert coll.find_one({"_id": 2})["m"] == 16
    r = coll.replace_one({"_id": 2}, {"only": 1})
    assert coll.find_one({"_id": 2}) == {"_id": 2, "only": 1}
    with pytest.raises(OperationFailure) as info:
        coll.update_one({"_id": 2}, {"$set": {"_id": 9}})
    assert info.value.code == 66


def test_find_one_and_modify(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": 2}])
    doc = coll.find_one_and_update(
        {"n": {"$gt": 0}},
        {"$inc": {"n": 10}},
        sort=[("n", -1)],
        return_document=ReturnDocument.AFTER,
    )
    assert doc == {"_id": 2, "n": 12}
    assert coll.find_one_and_delete({"_id": 1}) == {"_id": 1, "n": 1}
    assert coll.find_one_and_replace(
        {"_id": 9}, {"x": 1}, upsert=True, return_document=ReturnDocument.AFTER
    ) == {"_id": 9, "x": 1}


def test_deletes(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i, "k": i % 2} for i in range(6)])
    assert coll.delete_one({"k": 1}).deleted_count == 1
    assert coll.delete_many({"k": 1}).deleted_count == 2
    assert coll.count_documents({}) == 3


def test_aggregate(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i, "g": i % 2, "v": i} for i in range(6)])
    out = list(
        coll.aggregate(
            [
                {"$match": {"v": {"$gte": 1}}},
                {"$group": {"_id": "$g", "t": {"$sum": "$v"}}},
                {"$sort": {"_id": 1}},
            ]
        )
    )
    assert out == [{"_id": 0, "t": 6}, {"_id": 1, "t": 9}]
    other = coll.database[coll.name + "_other"]
    other.drop()
    other.insert_one({"_id": 1, "g": 1, "label": "odd"})
    joined = list(
        coll.aggregate(
            [
                {"$match": {"_id": 1}},
                {
                    "$lookup": {
                        "from": other.name,
                        "localField": "g",
                        "foreignField": "g",
                        "as": "l",
                    }
                },
                {"$unwind": "$l"},
                {"$replaceRoot": {"newRoot": "$l"}},
            ]
        )
    )
    assert joined == [{"_id": 1, "g": 1, "label": "odd"}]


def test_unique_index_enforced_inside_and_outside(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index([("email", ASCENDING)], unique=True)
    names = [i["name"] for i in coll.list_indexes()]
    assert names == ["_id_", "email_1"]
    coll.insert_one({"_id": 1, "email": "a@x"})
    with pytest.raises(DuplicateKeyError) as info:
        coll.insert_one({"_id": 2, "email": "a@x"})
    assert "E11000" in str(info.value) and "email_1" in str(info.value)
    with client.start_session() as s:
        s.start_transaction()
        with pytest.raises(DuplicateKeyError):
            coll.insert_one({"_id": 3, "email": "a@x"}, session=s)
    coll.drop_index("email_1")
    coll.insert_one({"_id": 2, "email": "a@x"})


def test_collections_and_databases(client: MongoClient) -> None:
    db = client.ddl_test
    client.drop_database("ddl_test")
    db.create_collection("c1")
    with pytest.raises(OperationFailure) as info:
        db.command("create", "c1")
    assert info.value.code == 48
    db.c2.insert_one({})
    assert sorted(db.list_collection_names()) == ["c1", "c2"]
    assert "ddl_test" in client.list_database_names()
    db.drop_collection("c1")
    assert db.list_collection_names() == ["c2"]
    client.drop_database("ddl_test")
    assert "ddl_test" not in client.list_database_names()


def test_change_stream_sees_commit(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 0})
    with coll.watch(max_await_time_ms=500) as stream:
        with client.start_session() as s:
            s.start_transaction()
            coll.insert_one({"_id": 1}, session=s)
            coll.update_one({"_id": 0}, {"$set": {"x": 1}}, session=s)
            assert stream.try_next() is None  # nothing before the commit
            s.commit_transaction()
        first = stream.next()
        second = stream.next()
    assert first["operationType"] == "insert" and second["operationType"] == "update"
    assert first["clusterTime"] == second["clusterTime"]
    assert first["lsid"] == second["lsid"] and first["txnNumber"] == second["txnNumber"]


def test_current_op_shows_open_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s:
        s.start_transaction()
        coll.insert_one({"_id": 1}, session=s)
        ops = list(client.admin.aggregate([{"$currentOp": {"idleSessions": True}}]))
        mine = [o for o in ops if o.get("lsid", {}).get("id") == s.session_id["id"]]
        assert mine and mine[0]["transaction"]["parameters"]["txnNumber"] == 1
        assert "expiryTime" in mine[0]["transaction"]
        s.abort_transaction()


def test_schema_validation(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    from pymongo.errors import WriteError

    coll.database.command("create", coll.name, validator={"balance": {"$gte": 0}})
    coll.insert_one({"_id": 1, "balance": 5})
    with pytest.raises(WriteError) as info:
        coll.update_one({"_id": 1}, {"$inc": {"balance": -10}})
    assert info.value.code == 121
    assert info.value.details["errInfo"]["failingDocumentId"] == 1
    coll.update_one({"_id": 1}, {"$inc": {"balance": -10}}, bypass_document_validation=True)
    coll.database.command("collMod", coll.name, validationLevel="moderate")
    coll.update_one({"_id": 1}, {"$inc": {"balance": -1}})  # already invalid: not checked
    assert coll.find_one({"_id": 1})["balance"] == -6


def test_list_local_sessions(client: MongoClient) -> None:
    with client.start_session() as s:
        client.admin.command("ping", session=s)
        sessions = list(client.admin.aggregate([{"$listLocalSessions": {}}]))
        assert s.session_id in [doc["_id"] for doc in sessions]

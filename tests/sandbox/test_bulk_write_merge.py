"""Client-level bulkWrite and the $merge aggregation stage, through pymongo."""

from __future__ import annotations

import pytest
from pymongo import (
    DeleteMany,
    DeleteOne,
    InsertOne,
    MongoClient,
    ReplaceOne,
    UpdateMany,
    UpdateOne,
)
from pymongo.errors import ClientBulkWriteException, OperationFailure

# ---- client bulkWrite ----------------------------------------------------------------


@pytest.fixture
def two(client: MongoClient):  # type: ignore[no-untyped-def]
    a, b = client.bw_one.items, client.bw_two.other
    a.drop()
    b.drop()
    a.insert_many([{"_id": i, "x": i} for i in range(1, 6)])
    return a, b


def test_mixed_namespaces_verbose_results(client: MongoClient, two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    result = client.bulk_write(
        [
            InsertOne({"_id": 10, "x": 10}, namespace="bw_one.items"),
            InsertOne({"_id": "b1"}, namespace="bw_two.other"),
            UpdateOne({"_id": 1}, {"$inc": {"x": 100}}, namespace="bw_one.items"),
            UpdateMany({"_id": {"$in": [2, 3]}}, {"$set": {"x": 0}}, namespace="bw_one.items"),
            UpdateOne({"_id": 4}, {"$set": {"x": 4}}, namespace="bw_one.items"),
            ReplaceOne({"_id": 99}, {"r": 1}, upsert=True, namespace="bw_two.other"),
            DeleteOne({"_id": 5}, namespace="bw_one.items"),
            DeleteMany({"_id": {"$gt": 100}}, namespace="bw_one.items"),
        ],
        verbose_results=True,
    )
    assert (result.inserted_count, result.matched_count, result.modified_count) == (2, 4, 3)
    assert (result.upserted_count, result.deleted_count) == (1, 1)
    assert result.insert_results[1].inserted_id == "b1"
    up = result.update_results
    assert (up[2].matched_count, up[2].modified_count, up[2].upserted_id) == (1, 1, None)
    assert (up[3].matched_count, up[3].modified_count) == (2, 2)
    assert (up[4].matched_count, up[4].modified_count) == (1, 0)  # no-op $set
    assert (up[5].matched_count, up[5].modified_count, up[5].upserted_id) == (1, 0, 99)
    assert result.delete_results[6].deleted_count == 1
    assert result.delete_results[7].deleted_count == 0
    assert sorted(d["_id"] for d in a.find()) == [1, 2, 3, 4, 10]
    assert list(b.find()) == [{"_id": "b1"}, {"_id": 99, "r": 1}]


def test_raw_reply_shape_and_errors_only(client: MongoClient, two) -> None:  # type: ignore[no-untyped-def]
    body = {
        "bulkWrite": 1,
        "ops": [
            {"insert": 0, "document": {"_id": 1}},
            {"update": 0, "filter": {"_id": 2}, "updateMods": {"$set": {"y": 1}}},
            {"delete": 1, "filter": {}, "multi": True},
        ],
        "nsInfo": [{"ns": "bw_one.items"}, {"ns": "bw_two.other"}],
        "ordered": False,
    }
    reply = client.admin.command({**body, "errorsOnly": False})
    assert reply["ok"] == 1
    cursor = reply["cursor"]
    assert cursor["id"] == 0 and cursor["ns"] == "admin.$cmd.bulkWrite"
    first, second, third = cursor["firstBatch"]
    assert first["ok"] == 0 and first["idx"] == 0 and first["code"] == 11000
    assert first["codeName"] == "DuplicateKey" and first["keyValue"] == {"_id": 1}
    assert second == {"ok": 1.0, "idx": 1, "n": 1, "nModified": 1}
    assert third == {"ok": 1.0, "idx": 2, "n": 0}
    counts = {k: reply[k] for k in ("nErrors", "nInserted", "nMatched", "nModified", "nDeleted")}
    assert counts == {"nErrors": 1, "nInserted": 0, "nMatched": 1, "nModified": 1, "nDeleted": 0}
    assert reply["nUpserted"] == 0

    reply = client.admin.command({**body, "errorsOnly": True})
    assert [e["idx"] for e in reply["cursor"]["firstBatch"]] == [0]
    assert reply["nErrors"] == 1 and reply["nMatched"] == 1


def test_ordered_stops_at_first_error(client: MongoClient, two) -> None:  # type: ignore[no-untyped-def]
    a, _ = two
    with pytest.raises(ClientBulkWriteException) as info:
        client.bulk_write(
            [
                InsertOne({"_id": 20}, namespace="bw_one.items"),
                InsertOne({"_id": 1}, namespace="bw_one.items"),
                InsertOne({"_id": 21}, namespace="bw_one.items"),
            ]
        )
    errors = info.value.write_errors
    assert [(e["idx"], e["code"]) for e in errors] == [(1, 11000)]
    assert info.value.partial_result.inserted_count == 1
    assert a.find_one({"_id": 20}) and not a.find_one({"_id": 21})


def test_unordered_continues_after_errors(client: MongoClient, two) -> None:  # type: ignore[no-untyped-def]
    a, _ = two
    with pytest.raises(ClientBulkWriteException) as info:
        client.bulk_write(
            [
                InsertOne({"_id": 1}, namespace="bw_one.items"),
                UpdateOne({"_id": 2}, {"$inc": {"x": "nope"}}, namespace="bw_one.items"),
                InsertOne({"_id": 30}, namespace="bw_one.items"),
            ],
            ordered=False,
            verbose_results=True,
        )
    assert [(e["idx"], e["code"]) for e in info.value.write_errors] == [(0, 11000), (1, 14)]
    partial = info.value.partial_result
    assert partial.inserted_count == 1 and partial.insert_results[2].inserted_id == 30
    assert a.find_one({"_id": 2}) == {"_id": 2, "x": 2}


def test_let_variables(client: MongoClient, two) -> None:  # type: ignore[no-untyped-def]
    a, _ = two
    result = client.bulk_write(
        [
            UpdateMany(
                {"$expr": {"$gt": ["$x", "$$limit"]}},
                [{"$set": {"big": "$$flag"}}],
                namespace="bw_one.items",
            ),
            DeleteOne({"$expr": {"$eq": ["$x", "$$limit"]}}, namespace="bw_one.items"),
        ],
        let={"limit": 3, "flag": True},
    )
    assert result.modified_count == 2 and result.deleted_count == 1
    assert sorted(d["_id"] for d in a.find({"big": True})) == [4, 5]
    assert a.find_one({"_id": 3}) is None


def test_command_errors(client: MongoClient, two) -> None:  # type: ignore[no-untyped-def]
    ops = [{"insert": 3, "document": {"_id": 1}}]
    with pytest.raises(OperationFailure) as info:
        client.admin.command({"bulkWrite": 1, "ops": ops, "nsInfo": [{"ns": "bw_one.items"}]})
    assert info.value.code == 2
    with pytest.raises(OperationFailure) as info:
        client.bw_one.command(
            {"bulkWrite": 1, "ops": [], "nsInfo": [{"ns": "bw_one.items"}]},
        )
    assert info.value.code == 13


def test_in_transaction_commits(client: MongoClient, two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    with client.start_session() as session:
        with session.start_transaction():
            result = client.bulk_write(
                [
                    InsertOne({"_id": 40}, namespace="bw_one.items"),
                    UpdateMany({}, {"$set": {"t": 1}}, namespace="bw_one.items"),
                    InsertOne({"_id": 41}, namespace="bw_two.other"),
                    DeleteOne({"_id": 1}, namespace="bw_one.items"),
                ],
                session=session,
            )
            assert (result.inserted_count, result.modified_count) == (2, 6)
            assert a.find_one({"_id": 40}) is None  # not visible outside yet
    assert a.count_documents({"t": 1}) == 5 and a.find_one({"_id": 1}) is None
    assert b.find_one({"_id": 41}) == {"_id": 41}


def test_error_in_transaction_aborts_it(client: MongoClient, two) -> None:  # type: ignore[no-untyped-def]
    a, _ = two
    with client.start_session() as session:
        session.start_transaction()
        with pytest.raises(ClientBulkWriteException) as info:
            client.bulk_write(
                [
                    InsertOne({"_id": 50}, namespace="bw_one.items"),
                    InsertOne({"_id": 1}, namespace="bw_one.items"),
                    InsertOne({"_id": 51}, namespace="bw_one.items"),
                ],
                session=session,
                ordered=False,
            )
        assert [e["idx"] for e in info.value.write_errors] == [1]
        with pytest.raises(OperationFailure) as failed:
            session.commit_transaction()
        assert failed.value.code == 251
    assert a.find_one({"_id": 50}) is None and a.find_one({"_id": 51}) is None


# ---- $merge --------------------------------------------------------------------------


@pytest.fixture
def merge_colls(client: MongoClient):  # type: ignore[no-untyped-def]
    db = client.merge_db
    src, dst = db.src, db.dst
    src.drop()
    dst.drop()
    src.insert_many([{"_id": 1, "k": "a", "x": 1}, {"_id": 2, "k": "b", "x": 2}])
    dst.insert_one({"_id": 1, "k": "a", "x": 100, "old": True})
    return src, dst


def _merge(src, spec, pipeline=()):  # type: ignore[no-untyped-def]
    return list(src.aggregate([*pipeline, {"$merge": spec}]))


def test_merge_default_merges_and_inserts(merge_colls) -> None:  # type: ignore[no-untyped-def]
    src, dst = merge_colls
    assert _merge(src, "dst") == []
    assert list(dst.find()) == [
        {"_id": 1, "k": "a", "x": 1, "old": True},
        {"_id": 2, "k": "b", "x": 2},
    ]


def test_merge_replace_and_keep_existing(merge_colls) -> None:  # type: ignore[no-untyped-def]
    src, dst = merge_colls
    _merge(src, {"into": "dst", "whenMatched": "keepExisting"})
    assert dst.find_one({"_id": 1}) == {"_id": 1, "k": "a", "x": 100, "old": True}
    assert dst.count_documents({}) == 2
    _merge(src, {"into": "dst", "whenMatched": "replace"})
    assert dst.find_one({"_id": 1}) == {"_id": 1, "k": "a", "x": 1}


def test_merge_when_matched_fail(merge_colls) -> None:  # type: ignore[no-untyped-def]
    src, dst = merge_colls
    with pytest.raises(OperationFailure) as info:
        _merge(src, {"into": "dst", "whenMatched": "fail"}, [{"$sort": {"_id": -1}}])
    assert info.value.code == 11000
    assert info.value.details["keyValue"] == {"_id": 1}
    assert dst.find_one({"_id": 2}) == {"_id": 2, "k": "b", "x": 2}  # written before the error


def test_merge_when_not_matched(merge_colls) -> None:  # type: ignore[no-untyped-def]
    src, dst = merge_colls
    _merge(src, {"into": "dst", "whenMatched": "replace", "whenNotMatched": "discard"})
    assert list(dst.find()) == [{"_id": 1, "k": "a", "x": 1}]
    with pytest.raises(OperationFailure) as info:
        _merge(src, {"into": "dst", "whenNotMatched": "fail"})
    assert info.value.code == 13113


def test_merge_pipeline_with_let(merge_colls) -> None:  # type: ignore[no-untyped-def]
    src, dst = merge_colls
    _merge(
        src,
        {
            "into": "dst",
            "let": {"twice": {"$multiply": ["$x", 2]}},
            "whenMatched": [{"$set": {"x": {"$add": ["$x", "$$new.x"]}, "d": "$$twice"}}],
        },
    )
    assert dst.find_one({"_id": 1}) == {"_id": 1, "k": "a", "x": 101, "old": True, "d": 2}
    assert dst.find_one({"_id": 2}) == {"_id": 2, "k": "b", "x": 2}  # inserted as is


def test_merge_on_other_fields_needs_unique_index(merge_colls) -> None:  # type: ignore[no-untyped-def]
    src, dst = merge_colls
    with pytest.raises(OperationFailure) as info:
        _merge(src, {"into": "dst", "on": "k"})
    assert info.value.code == 51183
    dst.create_index("k", unique=True)
    _merge(src, {"into": "dst", "on": "k"}, [{"$project": {"_id": 0}}])
    assert dst.find_one({"k": "a"}) == {"_id": 1, "k": "a", "x": 1, "old": True}
    assert dst.find_one({"k": "b"})["x"] == 2
    # A matched document whose _id would change: ImmutableField.
    dst.delete_many({})
    dst.insert_one({"_id": 7, "k": "a"})
    with pytest.raises(OperationFailure) as info:
        _merge(src, {"into": "dst", "on": "k", "whenMatched": "replace"})
    assert info.value.code == 66


def test_merge_into_other_database_and_errors(client: MongoClient, merge_colls) -> None:  # type: ignore[no-untyped-def]
    src, _ = merge_colls
    client.merge_other.out.drop()
    _merge(src, {"into": {"db": "merge_other", "coll": "out"}})
    assert client.merge_other.out.count_documents({}) == 2
    bad = [
        ({"into": "dst", "whenMatched": "fail", "whenNotMatched": "discard"}, 51181),
        ({"into": "dst", "whenMatched": "merge", "let": {"a": 1}}, 51199),
        ({"into": "dst", "whenMatched": "sometimes"}, 2),
        ({"into": "dst", "on": []}, 51187),
        ({"into": "dst", "bogus": 1}, 40415),
        (5, 51182),
    ]
    for spec, code in bad:
        with pytest.raises(OperationFailure) as info:
            _merge(src, spec)
        assert info.value.code == code, spec
    with pytest.raises(OperationFailure) as info:
        list(src.aggregate([{"$merge": "dst"}, {"$match": {}}]))
    assert info.value.code == 40601


def test_merge_refused_in_transaction(client: MongoClient, merge_colls) -> None:  # type: ignore[no-untyped-def]
    src, _ = merge_colls
    with client.start_session() as session:
        session.start_transaction()
        with pytest.raises(OperationFailure) as info:
            list(src.aggregate([{"$merge": "dst"}], session=session))
        session.abort_transaction()
    assert info.value.code == 263

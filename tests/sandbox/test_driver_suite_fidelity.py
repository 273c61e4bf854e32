"""Deviations a driver's own test suite found (issue 17): updates parsed before matching,
an empty collation, partial filter and text index specs, upserting `_id: null`."""

from __future__ import annotations

import pytest
from pymongo import InsertOne, MongoClient, UpdateOne
from pymongo.errors import (
    BulkWriteError,
    ClientBulkWriteException,
    OperationFailure,
    WriteError,
)

BAD_UPDATES = [
    ({"$thismodifierdoesntexist": 1}, 9),
    ({"$set": 5}, 9),
    ({"$set": {"a.$[x]": 1}}, 2),  # an identifier without its array filter
    ([{"$match": {}}], 72),
    ([{"$nosuchstage": {}}], 40324),
    ([{"$set": 5}], 40272),
]


@pytest.mark.parametrize(("update", "code"), BAD_UPDATES)
def test_update_is_parsed_before_matching(coll, update, code) -> None:  # type: ignore[no-untyped-def]
    # An empty collection, and a missing one: no document matches, the update still fails.
    for target in (coll, coll.database[coll.name + "_missing"]):
        with pytest.raises(WriteError) as info:
            target.update_one({}, update)
        assert info.value.code == code
        with pytest.raises(OperationFailure) as info:
            target.find_one_and_update({}, update)
        assert info.value.code == code
        with pytest.raises(BulkWriteError) as bulk:
            target.bulk_write([UpdateOne({}, update)])
        assert bulk.value.details["writeErrors"][0]["code"] == code


def test_unused_array_filter_fails_without_match(coll) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WriteError) as info:
        coll.update_one({}, {"$set": {"a": 1}}, array_filters=[{"x": 1}])
    assert info.value.code == 9


def test_client_bulk_write_parses_each_update(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    ns = coll.full_name
    with pytest.raises(ClientBulkWriteException) as info:
        client.bulk_write(
            [
                UpdateOne({}, {"$thismodifierdoesntexist": 1}, namespace=ns),
                InsertOne({"x": 1}, namespace=ns),
            ],
            verbose_results=True,
        )
    errors = info.value.write_errors
    assert [e["code"] for e in errors] == [9]
    assert coll.count_documents({}) == 0  # ordered: the insert after it never ran


def test_empty_collation_is_no_collation(coll) -> None:  # type: ignore[no-untyped-def]
    db = coll.database
    coll.insert_many([{"_id": 1, "s": "a"}, {"_id": 2, "s": "A"}])
    found = db.command("find", coll.name, filter={"s": "a"}, collation={})
    assert [d["_id"] for d in found["cursor"]["firstBatch"]] == [1]
    assert db.command("count", coll.name, query={"s": "a"}, collation={})["n"] == 1
    assert db.command("distinct", coll.name, key="s", collation={})["values"] == ["A", "a"]
    agg = db.command("aggregate", coll.name, pipeline=[], cursor={}, collation={})
    assert len(agg["cursor"]["firstBatch"]) == 2
    res = db.command(
        "update", coll.name, updates=[{"q": {"s": "a"}, "u": {"$set": {"t": 1}}, "collation": {}}]
    )
    assert res["n"] == 1 and "writeErrors" not in res
    res = db.command("delete", coll.name, deletes=[{"q": {"s": "A"}, "limit": 1, "collation": {}}])
    assert res["n"] == 1 and "writeErrors" not in res
    res = db.command(
        "findAndModify", coll.name, query={"s": "a"}, update={"$set": {"u": 1}}, collation={}
    )
    assert res["value"]["_id"] == 1


def test_empty_collation_uses_the_collection_default(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    db = coll.database
    db.create_collection(coll.name, collation={"locale": "en", "strength": 2})
    coll.insert_many([{"_id": 1, "s": "a"}, {"_id": 2, "s": "A"}])
    found = db.command("find", coll.name, filter={"s": "a"}, collation={})
    assert [d["_id"] for d in found["cursor"]["firstBatch"]] == [1, 2]


def test_index_collation_may_not_be_empty(coll) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as info:
        coll.create_index("s", collation={})
    assert info.value.code == 2
    assert "The field 'collation' cannot be an empty object." in str(info.value)


@pytest.mark.parametrize(
    ("pfe", "code"),
    [
        (5, 14),
        ({"x": {"$asdasd": 3}}, 2),
        ({"$and": 5}, 2),
        ({"x": {"$ne": 3}}, 67),
        ({"x": {"$exists": False}}, 67),
        ({"x": {"$regex": "^a"}}, 67),
        ({"$nor": [{"x": 1}]}, 67),
        ({"x": {"$elemMatch": {"y": 1}}}, 67),
        ({"$expr": {"$eq": ["$x", 1]}}, 224),
    ],
)
def test_bad_partial_filter_is_refused(coll, pfe, code) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"x": 1})
    with pytest.raises(OperationFailure) as info:
        coll.create_index("a", partialFilterExpression=pfe)
    assert info.value.code == code
    assert "Error in specification" in str(info.value)
    assert [i["name"] for i in coll.list_indexes()] == ["_id_"]


def test_allowed_partial_filters(coll) -> None:  # type: ignore[no-untyped-def]
    allowed = [
        {"x": 1},
        {"x": {"$gt": 1, "$lte": 9}},
        {"x": {"$exists": True}, "y": {"$type": "string"}},
        {"$and": [{"x": 1}, {"y": {"$in": [1, 2]}}]},
        {"$or": [{"x": 1}, {"y": 2}]},
    ]
    for i, pfe in enumerate(allowed):
        coll.create_index([(f"f{i}", 1)], partialFilterExpression=pfe)
    assert len(list(coll.list_indexes())) == 1 + len(allowed)


def test_partial_filter_and_sparse_do_not_mix(coll) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as info:
        coll.create_index("a", partialFilterExpression={"a": 1}, sparse=True)
    assert info.value.code == 67


def test_text_index_is_listed_as_mongod_stores_it(coll) -> None:  # type: ignore[no-untyped-def]
    name = coll.create_index([("t", "text")])
    assert name == "t_text"
    spec = next(i for i in coll.list_indexes() if i["name"] == "t_text")
    assert dict(spec) == {
        "v": 2,
        "key": {"_fts": "text", "_ftsx": 1},
        "name": "t_text",
        "weights": {"t": 1},
        "default_language": "english",
        "language_override": "language",
        "textIndexVersion": 3,
    }
    # The same index again is a no-op; a second text index is refused.
    coll.create_index([("t", "text")])
    with pytest.raises(OperationFailure) as info:
        coll.create_index([("u", "text")])
    assert info.value.code == 85
    with pytest.raises(OperationFailure) as info:
        coll.create_index([("a", 1), ("u", "text")])
    assert info.value.code == 67
    # Dropped by its name (pymongo computes it from the key), or by its stored key pattern;
    # mongod looks a key pattern up as stored, so the key as created finds nothing
    # [srv:db/catalog/drop_indexes.cpp getDescriptorByKeyPattern].
    with pytest.raises(OperationFailure) as info:
        coll.database.command("dropIndexes", coll.name, index={"t": "text"})
    assert info.value.code == 27
    coll.drop_index([("t", "text")])
    coll.create_index(
        [("a", 1), ("t", "text"), ("b", "text")], weights={"b": 5}, default_language="spanish"
    )
    spec = next(i for i in coll.list_indexes() if i["name"] == "a_1_t_text_b_text")
    assert spec["key"] == {"a": 1, "_fts": "text", "_ftsx": 1}
    assert spec["weights"] == {"b": 5, "t": 1}
    assert spec["default_language"] == "spanish"
    coll.database.command("dropIndexes", coll.name, index={"a": 1, "_fts": "text", "_ftsx": 1})
    assert [i["name"] for i in coll.list_indexes()] == ["_id_"]


def test_bad_text_index_specs(coll) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as info:
        coll.create_index([("t", "text")], default_language="klingon")
    assert info.value.code == 67
    with pytest.raises(OperationFailure) as info:
        coll.create_index([("t", "text"), ("a", 1), ("u", "text")])
    assert info.value.code == 67


def test_upsert_with_null_id(coll) -> None:  # type: ignore[no-untyped-def]
    res = coll.update_one({"_id": None, "x": 0}, {"$inc": {"x": 1}}, upsert=True)
    assert res.upserted_id is None and res.raw_result["n"] == 1
    assert "upserted" in res.raw_result
    assert list(coll.find()) == [{"_id": None, "x": 1}]
    coll.delete_many({})
    bulk = coll.bulk_write(
        [InsertOne({"_id": 1}), UpdateOne({"_id": None}, {"$set": {"y": 1}}, upsert=True)]
    )
    assert bulk.upserted_count == 1 and bulk.upserted_ids == {1: None}


def test_pipeline_update_expressions_are_parsed_first(coll) -> None:  # type: ignore[no-untyped-def]
    bad = [{"$set": {"a": {"$cond": {"if": True, "then": 1, "else": {"$nosuchop": 1}}}}}]
    with pytest.raises(WriteError) as info:
        coll.update_one({}, bad)
    assert info.value.code == 168
    # $literal keeps its argument as data; known operators pass.
    coll.insert_one({"_id": 1, "x": [1, 2]})
    good = [
        {"$set": {"l": {"$literal": {"$nosuchop": 1}}}},
        {"$set": {"m": {"$map": {"input": "$x", "as": "v", "in": {"$add": ["$$v", 1]}}}}},
    ]
    coll.update_one({}, good)
    assert coll.find_one() == {"_id": 1, "x": [1, 2], "l": {"$nosuchop": 1}, "m": [2, 3]}

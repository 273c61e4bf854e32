"""$lookup, $unwind and $all give the same results by hash and by copy-less unwinding as by
comparing every pair (issue 16, item 3): arrays, missing fields, numbers of other types,
nested paths, collation."""

from __future__ import annotations

from bson.int64 import Int64
from pymongo import MongoClient


def _lookup(client: MongoClient, local: list, foreign: list, stage: dict, **kw) -> list:  # type: ignore[no-untyped-def,type-arg]
    db = client.test
    db.lk_local.drop()
    db.lk_foreign.drop()
    db.lk_local.insert_many(local)
    db.lk_foreign.insert_many(foreign)
    pipeline = [{"$lookup": {"from": "lk_foreign", "as": "j", **stage}}, {"$sort": {"_id": 1}}]
    return [(d["_id"], [f["_id"] for f in d["j"]]) for d in db.lk_local.aggregate(pipeline, **kw)]


def test_lookup_equality_rules(client: MongoClient) -> None:
    local = [
        {"_id": 1, "k": 1},
        {"_id": 2, "k": [2, 3]},  # each element looks up
        {"_id": 3},  # missing: matches null and missing
        {"_id": 4, "k": None},
        {"_id": 5, "k": [[7, 8]]},  # an array element: matches the whole array
        {"_id": 7, "k": "x"},
    ]
    foreign = [
        {"_id": "a", "f": 1.0},  # numbers compare by value across types
        {"_id": "b", "f": Int64(2)},
        {"_id": "c", "f": [3, 2]},  # an array matches through its elements (once)
        {"_id": "d"},
        {"_id": "e", "f": None},
        {"_id": "g", "f": [7, 8]},
        {"_id": "h", "f": "X"},
        {"_id": "i", "f": "x"},
    ]
    got = _lookup(client, local, foreign, {"localField": "k", "foreignField": "f"})
    assert got == [
        (1, ["a"]),
        (2, ["b", "c"]),
        (3, ["d", "e"]),
        (4, ["d", "e"]),
        (5, ["g"]),
        (7, ["i"]),
    ]


def test_lookup_dotted_foreign_field_and_collation(client: MongoClient) -> None:
    local = [{"_id": 1, "k": "ab"}, {"_id": 2, "k": "zz"}]
    foreign = [
        {"_id": "a", "p": [{"q": "AB"}, {"q": "ab"}]},  # two hits, one document
        {"_id": "b", "p": {"q": "Ab"}},
        {"_id": "c", "p": {"q": "cd"}},
    ]
    stage = {"localField": "k", "foreignField": "p.q"}
    assert _lookup(client, local, foreign, stage) == [(1, ["a"]), (2, [])]
    insensitive = {"locale": "en", "strength": 2}
    got = _lookup(client, local, foreign, stage, collation=insensitive)
    assert got == [(1, ["a", "b"]), (2, [])]


def test_lookup_on_id_with_a_pipeline(client: MongoClient) -> None:
    local = [{"_id": i, "ref": i % 3} for i in range(6)]
    foreign = [{"_id": i, "v": i * 10} for i in range(3)]
    stage = {"localField": "ref", "foreignField": "_id", "pipeline": [{"$match": {"v": 10}}]}
    got = _lookup(client, local, foreign, stage)
    assert got == [(0, []), (1, [1]), (2, []), (3, []), (4, [1]), (5, [])]


def test_unwind_keeps_the_document_around_each_element(client: MongoClient) -> None:
    coll = client.test.unwind_copy
    coll.drop()
    coll.insert_many(
        [
            {"_id": 1, "a": 0, "n": {"x": [1, {"y": 2}], "z": [9]}, "b": {"c": 1}},
            {"_id": 2, "n": {"x": []}},
            {"_id": 3, "n": {"x": 5}},
        ]
    )
    pipeline = [
        {"$unwind": {"path": "$n.x", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": True}},
        {"$sort": {"_id": 1, "i": 1}},
    ]
    assert list(coll.aggregate(pipeline)) == [
        {"_id": 1, "a": 0, "n": {"x": 1, "z": [9]}, "b": {"c": 1}, "i": 0},
        {"_id": 1, "a": 0, "n": {"x": {"y": 2}, "z": [9]}, "b": {"c": 1}, "i": 1},
        {"_id": 2, "n": {}, "i": None},
        {"_id": 3, "n": {"x": 5}, "i": None},
    ]
    # Each output is a document of its own: a later stage changing one leaves the others.
    changed = list(coll.aggregate([{"$unwind": "$n.x"}, {"$set": {"b.c": 2}}, {"$limit": 1}]))
    assert changed[0]["b"] == {"c": 2}


def test_all_with_many_values(client: MongoClient) -> None:
    coll = client.test.all_many
    coll.drop()
    coll.insert_many(
        [
            {"_id": 1, "a": [*range(20), [1, 2]]},
            {"_id": 2, "a": list(range(19))},
            {"_id": 3, "a": [float(i) for i in range(20)] + [None, [1, 2]]},
            {"_id": 4, "a": "x"},
        ]
    )
    values = [Int64(i) for i in range(20)] + [[1, 2]]
    assert [d["_id"] for d in coll.find({"a": {"$all": values}})] == [1, 3]
    with_null = [*range(10), None]
    assert [d["_id"] for d in coll.find({"a": {"$all": with_null}})] == [3]
    strings = ["X", "x", "x", "x", "x", "x", "x", "x", "x"]
    assert [d["_id"] for d in coll.find({"a": {"$all": strings}})] == []
    assert [d["_id"] for d in coll.find({"a": {"$all": strings[1:]}})] == [4]
    insensitive = {"locale": "en", "strength": 2}
    assert [d["_id"] for d in coll.find({"a": {"$all": strings}}, collation=insensitive)] == [4]
    missing = [None] * 9
    assert [d["_id"] for d in coll.find({"b": {"$all": missing}})] == [1, 2, 3, 4]

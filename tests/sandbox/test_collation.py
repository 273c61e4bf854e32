"""Collation (manual, "Collation"): through pymongo against the real sandbox, and at the
engine level. The sandbox approximates ICU without locale tailoring (engine/collation.py)."""

from __future__ import annotations

import pytest
from pymongo import InsertOne, MongoClient, ReturnDocument, UpdateOne
from pymongo.collation import Collation
from pymongo.errors import OperationFailure

from mongotx_sandbox import engine

CI = Collation("en_US", strength=2)  # case-insensitive
BASE = Collation("en", strength=1)  # ignores case and diacritics


# ------------------------------------------------------------------------------ server


def test_find_count_and_sort_with_collation(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many(
        [{"_id": 1, "x": "ping"}, {"_id": 2, "x": "PING"}, {"_id": 3, "x": "pîng"}, {"_id": 4}]
    )
    assert [d["_id"] for d in coll.find({"x": "Ping"})] == []
    assert [d["_id"] for d in coll.find({"x": "Ping"}, collation=CI)] == [1, 2]
    assert [d["_id"] for d in coll.find({"x": "Ping"}, collation=BASE)] == [1, 2, 3]
    assert coll.count_documents({"x": {"$in": ["PING"]}}, collation=CI) == 2
    # Primary differences decide first: "pîng" < "pinh" (g < h) whatever its accent.
    assert coll.count_documents({"x": {"$gt": "PINA", "$lt": "pinh"}}, collation=CI) == 3
    assert coll.count_documents({"x": {"$gt": "ping"}}, collation=CI) == 1
    assert coll.count_documents({"x": {"$ne": "ping"}}, collation=CI) == 2
    # $regex is not affected by collation.
    assert coll.count_documents({"x": {"$regex": "^P"}}, collation=CI) == 1
    # Default strength 3: lowercase sorts before uppercase; diacritics after the base letter.
    got = [d["x"] for d in coll.find({"x": {"$exists": 1}}, collation=Collation("en")).sort("x")]
    assert got == ["ping", "PING", "pîng"]
    got = [
        d["x"]
        for d in coll.find(
            {"x": {"$exists": 1}}, collation=Collation("en", caseFirst="upper")
        ).sort("x")
    ]
    assert got == ["PING", "ping", "pîng"]
    # Binary comparison without a collation: uppercase first, diacritics last.
    assert [d["x"] for d in coll.find({"x": {"$exists": 1}}).sort("x")] == ["PING", "ping", "pîng"]


def test_numeric_ordering(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"v": v} for v in ["10", "9", "100", "b2", "b10"]])
    numeric = Collation("en", numericOrdering=True)
    assert [d["v"] for d in coll.find({}, {"_id": 0}).sort("v").collation(numeric)] == [
        "9",
        "10",
        "100",
        "b2",
        "b10",
    ]
    assert [d["v"] for d in coll.find({}).sort("v")] == ["10", "100", "9", "b10", "b2"]
    # "100", and the letters (which sort after digits).
    assert coll.count_documents({"v": {"$gt": "50"}}, collation=numeric) == 3
    assert coll.count_documents({"v": {"$gt": "50", "$lt": "a"}}, collation=numeric) == 1


def test_case_level(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many(
        [{"_id": 1, "x": "Resume"}, {"_id": 2, "x": "résumé"}, {"_id": 3, "x": "resume"}]
    )
    # strength 1 + caseLevel: case matters, diacritics do not.
    case_level = Collation("en", strength=1, caseLevel=True)
    assert [d["_id"] for d in coll.find({"x": "resume"}, collation=case_level)] == [2, 3]
    assert [d["_id"] for d in coll.find({"x": "resume"}, collation=BASE)] == [1, 2, 3]
    assert [d["_id"] for d in coll.find({"x": "resume"}, collation=CI)] == [1, 3]


def test_writes_with_collation(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i, "x": x} for i, x in enumerate(["a", "A", "b", "B", "c"])])
    r = coll.update_many({"x": "a"}, {"$set": {"hit": True}}, collation=CI)
    assert (r.matched_count, r.modified_count) == (2, 2)
    r = coll.update_one({"x": "B"}, {"$set": {"one": True}}, collation=CI)
    assert r.matched_count == 1
    assert coll.delete_many({"x": "C"}, collation=CI).deleted_count == 1
    doc = coll.find_one_and_update(
        {"x": "b"},
        {"$set": {"y": 1}},
        sort=[("x", -1)],
        collation=Collation("en", strength=3),
        return_document=ReturnDocument.AFTER,
    )
    assert doc == {"_id": 2, "x": "b", "one": True, "y": 1}
    r = coll.bulk_write(
        [
            UpdateOne({"x": "A"}, {"$set": {"z": 1}}, collation=CI),
            InsertOne({"_id": 9, "x": "Z"}),
        ]
    )
    assert r.matched_count == 1
    assert coll.delete_one({"x": "z"}, collation=CI).deleted_count == 1


def test_client_bulk_write_with_collation(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    from pymongo import DeleteMany, UpdateMany

    coll.insert_many([{"x": "Q"}, {"x": "q"}, {"x": "r"}])
    ns = coll.full_name
    r = client.bulk_write(
        [
            UpdateMany({"x": "q"}, {"$set": {"u": 1}}, collation=CI, namespace=ns),
            DeleteMany({"x": "R"}, collation=CI, namespace=ns),
        ]
    )
    assert (r.matched_count, r.deleted_count) == (2, 1)


def test_distinct_and_aggregate(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"s": "PING"}, {"s": "ping"}, {"s": "Pong"}, {"s": "pong"}, {"s": "a"}])
    assert coll.distinct("s", collation=CI) == ["a", "PING", "Pong"]
    assert sorted(coll.distinct("s")) == ["PING", "Pong", "a", "ping", "pong"]
    rows = list(
        coll.aggregate(
            [
                {"$group": {"_id": "$s", "n": {"$sum": 1}}},
                {"$sort": {"_id": 1}},
            ],
            collation=CI,
        )
    )
    assert [(r["_id"].lower(), r["n"]) for r in rows] == [("a", 1), ("ping", 2), ("pong", 2)]
    rows = list(
        coll.aggregate(
            [{"$match": {"s": "PONG"}}, {"$project": {"_id": 0, "eq": {"$eq": ["$s", "pong"]}}}],
            collation=CI,
        )
    )
    assert rows == [{"eq": True}, {"eq": True}]


def test_collection_default_collation(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.database.create_collection(coll.name, collation=CI)
    coll.insert_many([{"_id": "abc", "x": "Q"}, {"_id": "ABC", "x": "q"}, {"_id": 1, "x": "r"}])
    assert coll.count_documents({"x": "q"}) == 2
    # An operation's own collation overrides the default; "simple" is binary.
    assert coll.count_documents({"x": "q"}, collation=Collation("simple")) == 1
    # _id lookups under a non-simple collation see every equal _id.
    assert sorted(d["_id"] for d in coll.find({"_id": "Abc"})) == ["ABC", "abc"]
    assert [d["_id"] for d in coll.find({"_id": "Abc"}, collation=Collation("simple"))] == []
    assert [d["_id"] for d in coll.find({"_id": 1})] == [1]
    assert coll.delete_many({"x": "Q"}).deleted_count == 2


def test_id_point_lookup_with_collation(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": "k"}, {"_id": "K"}, {"_id": {"a": "X"}}])
    assert sorted(d["_id"] for d in coll.find({"_id": "k"}, collation=CI)) == ["K", "k"]
    assert [d["_id"] for d in coll.find({"_id": {"$in": ["K"]}})] == ["K"]
    assert [d["_id"] for d in coll.find({"_id": {"a": "x"}}, collation=CI)] == [{"a": "X"}]


@pytest.mark.parametrize(
    ("collation", "code"),
    [
        ({"strength": 2}, 40414),
        ({"locale": "en", "bogus": 1}, 40415),
        ({"locale": "en", "strength": 7}, 2),
        ({"locale": "en", "caseFirst": "sideways"}, 2),
        ({"locale": "en", "numericOrdering": "yes"}, 14),
        ({"locale": "simple", "strength": 1}, 2),
        ({"locale": ""}, 2),
    ],
)
def test_invalid_collation(coll, collation, code) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"x": 1})
    with pytest.raises(OperationFailure) as info:
        coll.database.command({"find": coll.name, "filter": {}, "collation": collation})
    assert info.value.code == code
    # In a write command a bad statement collation is that statement's write error.
    reply = coll.database.command(
        {"delete": coll.name, "deletes": [{"q": {}, "limit": 0, "collation": collation}]}
    )
    assert reply["writeErrors"][0]["code"] == code
    assert coll.count_documents({}) == 1


# ------------------------------------------------------------------------------ engine


def test_engine_strengths() -> None:
    def cmp(a: str, b: str, **spec) -> int:  # type: ignore[no-untyped-def]
        return engine.compare_values(a, b, collation={"locale": "en", **spec})

    assert cmp("a", "A", strength=1) == 0
    assert cmp("a", "á", strength=1) == 0
    assert cmp("a", "A", strength=2) == 0
    assert cmp("a", "á", strength=2) == -1
    assert cmp("a", "A") == -1
    assert cmp("a", "A", caseFirst="upper") == 1
    assert cmp("b", "A") == 1  # binary would say "b" > "A" too, but:
    assert cmp("a", "B") == -1 and engine.compare_values("a", "B") == 1
    assert cmp("a", "A", strength=1, caseLevel=True) == -1
    assert cmp("a", "á", strength=1, caseLevel=True) == 0
    assert cmp("x2", "x10", numericOrdering=True) == -1
    assert cmp("x2", "x10") == 1
    assert cmp("a b", "ab", alternate="shifted") == 0
    assert cmp("a-b", "ab", alternate="shifted") == 0
    assert cmp("a-b", "ab", alternate="shifted", maxVariable="space") != 0
    assert cmp("a-b", "ab", alternate="shifted", strength=4) != 0
    assert cmp("e\u0301", "\u00e9") == 0  # canonical equivalence (NFD)
    assert cmp("e\u0301", "\u00e9", strength=5) == 0
    assert cmp("a", "A", strength=5) == -1
    assert engine.compare_values("a", "A", collation={"locale": "simple"}) == 1


def test_engine_functions_take_collation() -> None:
    ci = {"locale": "en", "strength": 2}
    docs = [{"s": "b"}, {"s": "B"}, {"s": "a"}, {"s": ["A", "c"]}]
    assert engine.matches({"s": "A"}, docs[3], collation=ci)
    assert engine.matches({"s": {"$in": ["x", "C"]}}, docs[3], collation=ci)
    assert not engine.matches({"s": "A"}, docs[2])
    assert engine.matches({"s": "A"}, docs[2], collation=ci)
    assert engine.distinct_values(docs, "s", collation=ci) == ["a", "b", "c"]
    assert engine.canonical_key("Ab", collation=ci) == engine.canonical_key("aB", collation=ci)
    assert engine.canonical_key("Ab") != engine.canonical_key("aB")
    out = engine.sort_documents([{"s": "B"}, {"s": "a"}, {"s": "b"}], {"s": 1}, collation=ci)
    assert [d["s"] for d in out] == ["a", "B", "b"]
    rows = engine.run_pipeline(
        [{"s": "X"}, {"s": "x"}, {"s": "y"}],
        [{"$group": {"_id": None, "set": {"$addToSet": "$s"}, "max": {"$max": "$s"}}}],
        collation=ci,
    )
    assert rows == [{"_id": None, "set": ["X", "y"], "max": "y"}]
    # The collation does not leak out of the call.
    assert not engine.matches({"s": "A"}, docs[2])


def test_engine_collation_validation() -> None:
    for bad, code in [
        ({}, 40414),
        ({"locale": "en", "x": 1}, 40415),
        ({"locale": "en", "strength": 0}, 2),
        ({"locale": "en", "alternate": "maybe"}, 2),
        ({"locale": "en", "backwards": 1}, 14),
        ("en", 14),
    ]:
        with pytest.raises(engine.EngineError) as info:
            engine.check_collation(bad)
        assert info.value.code == code, bad
    engine.check_collation({"locale": "fr_CA", "backwards": True, "strength": 4})
    assert engine.is_simple_collation(None)
    assert engine.is_simple_collation({"locale": "simple"})
    assert not engine.is_simple_collation({"locale": "en"})


def test_simple_collation_matches_many_documents() -> None:
    # Its speed is a figure of benchmarks/sandbox_bench.py (engine rows), not a timed assert.
    docs = [{"_id": i, "balance": i % 50} for i in range(10_000)]
    assert sum(engine.matches({"balance": {"$gt": 10}}, d) for d in docs) == 7800

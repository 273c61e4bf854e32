"""find's min/max with a hint: bounds on the hinted index, in its key order (issue 17;
manual: cursor.min(), cursor.max(); server: db/query/query_planner.cpp)."""

from __future__ import annotations

import pytest
from pymongo.errors import OperationFailure


def _ids(cursor) -> list:  # type: ignore[no-untyped-def]
    return [d["_id"] for d in cursor]


def test_min_inclusive_max_exclusive_in_index_order(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i, "a": (7 * i) % 10} for i in range(10)])
    coll.create_index("a")
    got = _ids(coll.find().min([("a", 2)]).max([("a", 6)]).hint([("a", 1)]))
    assert [(7 * i) % 10 for i in got] == [2, 3, 4, 5]
    assert _ids(coll.find().min([("a", 8)]).hint("a_1")) == [4, 7]  # a: 8, 9
    assert _ids(coll.find().max([("a", 1)]).hint("a_1")) == [0]
    # A filter, a sort, skip and limit apply on top of the bounds.
    got = coll.find({"a": {"$ne": 3}}).min([("a", 2)]).max([("a", 6)]).hint("a_1").sort("a", -1)
    assert [d["a"] for d in got] == [5, 4, 2]
    assert [d["a"] for d in coll.find().min([("a", 2)]).hint("a_1").skip(1).limit(2)] == [3, 4]


def test_descending_and_compound_keys(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i, "a": i // 3, "b": i % 3} for i in range(9)])
    coll.create_index([("a", 1), ("b", -1)])
    got = (
        coll.find().min([("a", 1), ("b", 1)]).max([("a", 2), ("b", 0)]).hint([("a", 1), ("b", -1)])
    )
    assert [(d["a"], d["b"]) for d in got] == [(1, 1), (1, 0), (2, 2), (2, 1)]


def test_multikey_document_once(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": 1, "a": [1, 5, 9]}, {"_id": 2, "a": 4}, {"_id": 3}])
    coll.create_index("a")
    assert _ids(coll.find().min([("a", 3)]).max([("a", 6)]).hint("a_1")) == [2, 1]
    assert _ids(coll.find().max([("a", 2)]).hint("a_1")) == [3, 1]  # null sorts first


@pytest.mark.parametrize(
    ("modify", "code"),
    [
        (lambda c: c.max([("a", 1)]).hint("nosuchindex"), 2),
        (lambda c: c.min([("b", 1)]).hint("a_1"), 51174),
        (lambda c: c.min([("a", 1), ("b", 1)]).hint("a_1"), 51174),
        (lambda c: c.min([("a", 5)]).max([("a", 5)]).hint("a_1"), 51175),
        (lambda c: c.min([("a", 6)]).max([("a", 5)]).hint("a_1"), 51175),
    ],
)
def test_min_max_errors(coll, modify, code) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"a": 1})
    coll.create_index("a")
    with pytest.raises(OperationFailure) as info:
        list(modify(coll.find()))
    assert info.value.code == code


def test_min_max_need_a_hint(coll) -> None:  # type: ignore[no-untyped-def]
    # pymongo refuses this itself; the command as another client sends it.
    coll.insert_one({"a": 1})
    coll.create_index("a")
    with pytest.raises(OperationFailure) as info:
        coll.database.command("find", coll.name, min={"a": 1})
    assert info.value.code == 51173

"""$round and $trunc as MongoDB evaluates them; a huge place is refused at once, where it
used to stall the whole server (issue 16)."""

from __future__ import annotations

import pytest
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from pymongo import MongoClient
from pymongo.errors import OperationFailure


def value(coll, expression):  # type: ignore[no-untyped-def]
    out = list(coll.aggregate([{"$project": {"_id": 0, "r": expression}}]))
    return out[0]["r"]


@pytest.fixture
def one(coll):  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1})
    return coll


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"$round": 2.5}, 2.0),  # halves go to even
        ({"$round": 3.5}, 4.0),
        ({"$round": [2.675, 2]}, 2.67),  # 2.675 is 2.67499999… as a double
        ({"$round": [1234, -2]}, 1200),
        ({"$round": [1250, -2]}, 1200),
        ({"$round": [7, 3]}, 7),
        ({"$trunc": [-1.78, 1]}, -1.7),
        ({"$trunc": [1299, -2]}, 1200),
        ({"$round": [Decimal128("1.25"), 1]}, Decimal128("1.2")),
        ({"$round": [2147483647, -1]}, Int64(2147483650)),
        ({"$round": [None, 1]}, None),
        ({"$round": [1.5, None]}, None),
        ({"$round": [float("inf"), 2]}, float("inf")),
        ({"$abs": -3}, 3),
        ({"$abs": Int64(-3)}, Int64(3)),
        ({"$abs": -2.5}, 2.5),
        ({"$abs": -(2**31)}, Int64(2**31)),
        ({"$abs": None}, None),
        ({"$pow": [2, 10]}, 1024),
        ({"$pow": [2, 40]}, Int64(2**40)),
        ({"$pow": [Int64(3), 2]}, Int64(9)),
        ({"$pow": [2, 100]}, 2.0**100),
        ({"$pow": [10, 100000]}, float("inf")),
        ({"$pow": [2.0, 3]}, 8.0),
        ({"$pow": [2, -1]}, 0.5),
        ({"$pow": [-1, -3]}, -1),
        ({"$pow": [Decimal128("2"), 3]}, Decimal128("8")),
        ({"$pow": [None, 2]}, None),
    ],
)
def test_values(one, expression, expected) -> None:  # type: ignore[no-untyped-def]
    got = value(one, expression)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("expression", "code"),
    [
        ({"$round": [1, 2, 3]}, 28667),
        ({"$round": "x"}, 51081),
        ({"$trunc": [1, 1.5]}, 51082),
        ({"$round": [1, 101]}, 51083),
        ({"$trunc": [1, -21]}, 51083),
        ({"$round": [Int64(2**63 - 2), -1]}, 51080),
        ({"$abs": Int64(-(2**63))}, 28680),
        ({"$pow": ["x", 2]}, 28762),
        ({"$pow": [2, "x"]}, 28763),
        ({"$pow": [0, -1]}, 28764),
    ],
)
def test_errors(one, expression, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as err:
        value(one, expression)
    assert err.value.code == code


def test_a_huge_place_is_refused_and_the_server_keeps_answering(client: MongoClient, one) -> None:  # type: ignore[no-untyped-def]
    huge = Int64(-(2**63))
    with pytest.raises(OperationFailure) as err:
        one.find_one({"$expr": {"$eq": [{"$round": [huge, huge]}, 1]}})
    assert err.value.code == 51083
    assert client.admin.command("ping")["ok"] == 1

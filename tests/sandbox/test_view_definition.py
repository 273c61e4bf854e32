"""A view's pipeline is checked at create, as mongod parses it (view_catalog_helpers.cpp)."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure


@pytest.mark.parametrize(
    ("pipeline", "code"),
    [
        ([{"$bogus": 1}], 40324),
        ([{"$match": 5}], 15959),
        ([{"$limit": -1}], 15958),
        ([{"$match": {}, "$limit": 1}], 40323),
        ([{"$out": "x"}], 167),
        ([{"$merge": {"into": "x"}}], 167),
        ([{"$changeStream": {}}], 167),
        ([{"$documents": [{}]}], 73),
    ],
)
def test_an_invalid_view_pipeline_is_refused_at_create(
    client: MongoClient, pipeline: list, code: int
) -> None:
    db = client.test_views
    db.drop_collection("v")
    with pytest.raises(OperationFailure) as info:
        db.create_collection("v", viewOn="src", pipeline=pipeline)
    assert info.value.code == code, info.value.details
    assert "v" not in db.list_collection_names()


def test_a_valid_view_is_created_and_read(client: MongoClient) -> None:
    db = client.test_views
    db.drop_collection("ok_view")
    db.src.drop()
    db.src.insert_many([{"_id": 1, "a": 1}, {"_id": 2, "a": 2}])
    pipeline = [
        {"$match": {"a": {"$gte": 2}}},
        {"$lookup": {"from": "src", "localField": "a", "foreignField": "a", "as": "same"}},
        {"$project": {"same": 0}},
    ]
    db.create_collection("ok_view", viewOn="src", pipeline=pipeline)
    assert list(db.ok_view.find()) == [{"_id": 2, "a": 2}]

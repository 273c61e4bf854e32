"""A unique index on an array field holds one key per element (multikey), as MongoDB's key
generator makes them: no two documents may share an element, in or out of transactions."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError, OperationFailure, WriteError


def test_documents_sharing_an_element_are_duplicates(coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("tags", unique=True)
    coll.insert_one({"_id": 1, "tags": [1, 2]})
    with pytest.raises(DuplicateKeyError) as err:
        coll.insert_one({"_id": 2, "tags": [2, 3]})
    assert err.value.details["keyValue"] == {"tags": 2}
    assert "dup key: { tags: 2 }" in err.value.details["errmsg"]
    coll.insert_one({"_id": 3, "tags": [4, 4]})  # one document may repeat its own element
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"_id": 4, "tags": 4})  # a scalar equal to an element
    assert sorted(d["_id"] for d in coll.find()) == [1, 3]


def test_an_update_frees_the_elements_it_removes(coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("tags", unique=True)
    coll.insert_one({"_id": 1, "tags": [1, 2]})
    coll.update_one({"_id": 1}, {"$push": {"tags": 3}})  # its own keys: no conflict
    coll.insert_one({"_id": 2, "tags": [9]})
    with pytest.raises(WriteError) as err:
        coll.update_one({"_id": 2}, {"$push": {"tags": 2}})
    assert err.value.code == 11000
    coll.update_one({"_id": 1}, {"$pull": {"tags": 2}})
    coll.update_one({"_id": 2}, {"$push": {"tags": 2}})
    assert coll.find_one({"_id": 2}) == {"_id": 2, "tags": [9, 2]}


def test_empty_arrays_share_the_undefined_key(coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("a", unique=True)
    coll.insert_one({"_id": 1, "a": []})
    coll.insert_one({"_id": 2})  # a missing field is null, not undefined
    with pytest.raises(DuplicateKeyError) as err:
        coll.insert_one({"_id": 3, "a": []})
    assert "dup key: { a: undefined }" in err.value.details["errmsg"]


def test_dotted_path_through_an_array_of_documents(coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("items.sku", unique=True)
    coll.insert_one({"_id": 1, "items": [{"sku": "x"}, {"sku": "y"}]})
    with pytest.raises(DuplicateKeyError) as err:
        coll.insert_one({"_id": 2, "items": {"sku": "y"}})
    assert err.value.details["keyValue"] == {"items.sku": "y"}


def test_index_build_refuses_shared_elements(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": 1, "tags": ["a", "b"]}, {"_id": 2, "tags": ["b", "c"]}])
    with pytest.raises(DuplicateKeyError):
        coll.create_index("tags", unique=True)
    assert "tags_1" not in coll.index_information()


def test_parallel_arrays_in_a_compound_key(coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index([("a", 1), ("b", 1)])
    coll.insert_one({"_id": 1, "a": [1, 2], "b": 3})  # one array is fine
    with pytest.raises(WriteError) as err:
        coll.insert_one({"_id": 2, "a": [1], "b": [2]})
    assert err.value.code == 171
    assert "cannot index parallel arrays [b] [a]" in str(err.value)
    other = coll.database[coll.name + "_2"]
    other.drop()
    other.insert_one({"_id": 1, "x": [1], "y": [2]})
    with pytest.raises(OperationFailure) as build:
        other.create_index([("x", 1), ("y", 1)])
    assert build.value.code == 171
    other.drop()


def test_an_element_committed_after_the_snapshot_conflicts(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("tags", unique=True)
    coll.insert_one({"_id": 0})
    with client.start_session() as s1:
        s1.start_transaction()
        coll.find_one({"_id": 0}, session=s1)  # the snapshot starts here
        coll.insert_one({"_id": 1, "tags": [5, 6]})
        with pytest.raises(OperationFailure) as err:
            coll.insert_one({"_id": 2, "tags": [6, 7]}, session=s1)
        assert err.value.code == 112
        assert err.value.has_error_label("TransientTransactionError")
        s1.abort_transaction()
    assert sorted(d["_id"] for d in coll.find()) == [0, 1]


def test_an_element_held_by_an_open_transaction_conflicts(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("tags", unique=True)
    with client.start_session() as s1, client.start_session() as s2:
        s1.start_transaction()
        coll.insert_one({"_id": 1, "tags": [7, 8]}, session=s1)
        s2.start_transaction()
        with pytest.raises(OperationFailure) as err:
            coll.insert_one({"_id": 2, "tags": [8]}, session=s2)
        assert err.value.code == 112
        s2.abort_transaction()
        s1.commit_transaction()
    assert [d["_id"] for d in coll.find()] == [1]


def test_a_unique_index_compares_under_its_collation(coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("name", unique=True, collation={"locale": "en", "strength": 2})
    coll.insert_one({"_id": 1, "name": ["Alice", "Bob"]})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"_id": 2, "name": "bob"})  # equal at strength 2 (case-insensitive)
    coll.insert_one({"_id": 3, "name": "Carol"})
    assert coll.count_documents({}) == 2

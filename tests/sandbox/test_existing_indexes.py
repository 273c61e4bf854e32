"""createIndexes of an index that already exists is a no-op (issue 17, D11 and D12).

Server: createIndexes first drops the specs the collection already has and answers "all
indexes already exist" when none is left; only a new index on an existing collection is
refused in a transaction [srv:db/commands/create_indexes.cpp; manual, "Create Collections
and Indexes in a Transaction"].
"""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure


def _create(coll, spec: dict, session=None) -> dict:  # type: ignore[no-untyped-def]
    return coll.database.command({"createIndexes": coll.name, "indexes": [spec]}, session=session)


def test_id_index_under_another_name(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1})
    reply = _create(coll, {"key": {"_id": 1}, "name": "_id_1"})
    assert reply["numIndexesBefore"] == reply["numIndexesAfter"] == 1
    assert reply["note"] == "all indexes already exist"
    assert [i["name"] for i in coll.list_indexes()] == ["_id_"]


def test_id_index_refuses_unique(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1})
    with pytest.raises(OperationFailure) as err:
        _create(coll, {"key": {"_id": 1}, "name": "_id_1", "unique": True})
    assert err.value.code == 197


def test_recreate_existing_index_in_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("a", name="a_1")
    with client.start_session() as s:
        s.start_transaction()
        reply = _create(coll, {"key": {"a": 1}, "name": "a_1"}, session=s)
        assert reply["numIndexesBefore"] == reply["numIndexesAfter"] == 2
        reply = _create(coll, {"key": {"_id": 1}, "name": "_id_"}, session=s)
        assert reply["note"] == "all indexes already exist"
        s.commit_transaction()


def test_new_index_on_existing_collection_in_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("a", name="a_1")
    with client.start_session() as s:
        s.start_transaction()
        with pytest.raises(OperationFailure) as err:
            _create(coll, {"key": {"b": 1}, "name": "b_1"}, session=s)
        assert err.value.code == 263

"""An update that upserts nothing creates no collection (issue 17, D7).

Server: only an upsert makes the collection; an update of a missing collection matches
nothing, in a transaction or not [srv:db/ops/write_ops_exec.cpp performSingleUpdateOp].
"""

from __future__ import annotations

from pymongo import MongoClient


def _names(coll) -> list[str]:  # type: ignore[no-untyped-def]
    return coll.database.list_collection_names()


def test_update_in_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s:
        s.start_transaction()
        assert coll.update_one({"_id": 1}, {"$set": {"a": 1}}, session=s).matched_count == 0
        assert coll.update_many({}, {"$set": {"a": 1}}, session=s).matched_count == 0
        s.commit_transaction()
    assert coll.name not in _names(coll)


def test_find_and_modify_in_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s:
        s.start_transaction()
        assert coll.find_one_and_update({}, {"$set": {"a": 1}}, session=s) is None
        assert coll.find_one_and_delete({}, session=s) is None
        s.commit_transaction()
    assert coll.name not in _names(coll)


def test_update_outside_transaction(coll) -> None:  # type: ignore[no-untyped-def]
    assert coll.update_one({"_id": 1}, {"$set": {"a": 1}}).matched_count == 0
    assert coll.name not in _names(coll)


def test_client_bulk_write_in_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    from pymongo.operations import UpdateOne

    with client.start_session() as s:
        s.start_transaction()
        result = client.bulk_write(
            [UpdateOne({}, {"$set": {"a": 1}}, namespace=coll.full_name)], session=s
        )
        assert result.matched_count == 0
        s.commit_transaction()
    assert coll.name not in _names(coll)


def test_upsert_still_creates(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s:
        s.start_transaction()
        coll.update_one({"_id": 1}, {"$set": {"a": 1}}, upsert=True, session=s)
        s.commit_transaction()
    assert coll.find_one() == {"_id": 1, "a": 1}

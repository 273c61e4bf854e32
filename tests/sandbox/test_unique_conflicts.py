"""A unique index key conflicts like a document (issue 17, D1).

WiredTiger adds a unique key by first writing the bare key and removing it at once (server:
db/storage/wiredtiger/wiredtiger_index.cpp, WiredTigerIndexUnique::_insert), so a key added
by a transaction that is still open, or that committed after our snapshot, is a
WriteConflict (112, TransientTransactionError) for a transaction adding the same key. Then a
key on a document our snapshot shows is a duplicate (11000). Removing a key writes only the
key with its RecordId (_unindex there): a delete alone conflicts with no one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, OperationFailure


def _committed_elsewhere(client: MongoClient, write: Callable[[ClientSession], Any]) -> None:
    with client.start_session() as other:
        other.with_transaction(write)


def _assert_write_conflict(info: pytest.ExceptionInfo[OperationFailure]) -> None:
    assert info.value.code == 112
    assert info.value.has_error_label("TransientTransactionError")


def _keys(coll: Collection, field: str, value: Any) -> int:
    return coll.count_documents({field: value})


@pytest.mark.parametrize("writer", ["transaction", "plain"])
def test_key_committed_after_snapshot(writer: str, client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("x", unique=True)
    with client.start_session() as s:
        s.start_transaction()
        assert coll.find_one({}, session=s) is None  # the snapshot starts here
        if writer == "transaction":
            _committed_elsewhere(client, lambda o: coll.insert_one({"_id": 2, "x": 1}, session=o))
        else:
            coll.insert_one({"_id": 2, "x": 1})
        with pytest.raises(OperationFailure) as info:
            coll.insert_one({"_id": 1, "x": 1}, session=s)
        _assert_write_conflict(info)
        with pytest.raises(OperationFailure) as after:
            s.commit_transaction()
        assert after.value.code == 251  # the conflict aborted it
    assert list(coll.find({"x": 1})) == [{"_id": 2, "x": 1}]


def test_update_to_a_key_committed_after_snapshot(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("x", unique=True)
    coll.insert_one({"_id": 3, "x": 0})
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one({"_id": 3}, session=s)
        coll.update_one({"_id": 4}, {"$set": {"x": 1}}, upsert=True)
        with pytest.raises(OperationFailure) as info:
            coll.update_one({"_id": 3}, {"$set": {"x": 1}}, session=s)
        _assert_write_conflict(info)
        s.abort_transaction()
    assert _keys(coll, "x", 1) == 1


def test_insert_of_a_key_another_update_moved_to(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("x", unique=True)
    coll.insert_one({"_id": 3, "x": 0})
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one({"_id": 3}, session=s)
        _committed_elsewhere(
            client, lambda o: coll.update_one({"_id": 3}, {"$set": {"x": 1}}, session=o)
        )
        with pytest.raises(OperationFailure) as info:
            coll.insert_one({"_id": 1, "x": 1}, session=s)
        _assert_write_conflict(info)
        s.abort_transaction()
    assert _keys(coll, "x", 1) == 1


def test_key_added_and_removed_after_snapshot_still_conflicts(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    """The bare key was written after the snapshot, even though no document has it now."""
    coll.create_index("x", unique=True)
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one({}, session=s)
        coll.insert_one({"_id": 2, "x": 1})
        coll.delete_one({"_id": 2})
        with pytest.raises(OperationFailure) as info:
            coll.insert_one({"_id": 1, "x": 1}, session=s)
        _assert_write_conflict(info)
        s.abort_transaction()


def test_key_freed_after_snapshot_is_a_duplicate(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    """A delete after the snapshot wrote no bare key: the snapshot still shows the key, so
    adding it is a duplicate, not a conflict; after the delete a new transaction may add it."""
    coll.create_index("x", unique=True)
    coll.insert_one({"_id": 2, "x": 1})
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one({}, session=s)
        coll.delete_one({"_id": 2})
        with pytest.raises(DuplicateKeyError):
            coll.insert_one({"_id": 1, "x": 1}, session=s)
        s.abort_transaction()
    with client.start_session() as s:
        s.with_transaction(lambda ss: coll.insert_one({"_id": 1, "x": 1}, session=ss))
    assert list(coll.find({"x": 1})) == [{"_id": 1, "x": 1}]


def test_two_open_transactions_first_writer_wins(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("x", unique=True)
    with client.start_session() as s1, client.start_session() as s2:
        s1.start_transaction()
        s2.start_transaction()
        coll.insert_one({"_id": 1, "x": 1}, session=s1)
        with pytest.raises(OperationFailure) as info:
            coll.insert_one({"_id": 2, "x": 1}, session=s2)
        _assert_write_conflict(info)
        s1.commit_transaction()
    assert list(coll.find({"x": 1})) == [{"_id": 1, "x": 1}]


def test_open_transaction_holds_a_key_it_moved_away_from(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    """The bare key written when the key was added stays the transaction's until it ends."""
    coll.create_index("x", unique=True)
    with client.start_session() as s1, client.start_session() as s2:
        s1.start_transaction()
        s2.start_transaction()
        coll.insert_one({"_id": 1, "x": 1}, session=s1)
        coll.update_one({"_id": 1}, {"$set": {"x": 2}}, session=s1)
        with pytest.raises(OperationFailure) as info:
            coll.insert_one({"_id": 2, "x": 1}, session=s2)
        _assert_write_conflict(info)
        s1.commit_transaction()


def test_compound_unique_index(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index([("a", 1), ("b", 1)], unique=True)
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one({}, session=s)
        coll.insert_one({"_id": 2, "a": 1, "b": 1})
        coll.insert_one({"_id": 1, "a": 1, "b": 2}, session=s)  # another key: no conflict
        with pytest.raises(OperationFailure) as info:
            coll.insert_one({"_id": 3, "a": 1, "b": 1}, session=s)
        _assert_write_conflict(info)
        s.abort_transaction()
    assert coll.count_documents({"a": 1, "b": 1}) == 1


def test_partial_unique_index(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("a", unique=True, partialFilterExpression={"active": True})
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one({}, session=s)
        coll.insert_one({"_id": 2, "a": 1, "active": True})
        coll.insert_one({"_id": 1, "a": 1, "active": False}, session=s)  # not in the index
        with pytest.raises(OperationFailure) as info:
            coll.update_one({"_id": 1}, {"$set": {"active": True}}, session=s)
        _assert_write_conflict(info)
        s.abort_transaction()
    assert coll.count_documents({"a": 1, "active": True}) == 1


def test_id_key_freed_after_snapshot_conflicts(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    """_id's index stores the bare key, so a delete writes it: a conflict like the document's."""
    coll.insert_one({"_id": 1})
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one({}, session=s)
        coll.delete_one({"_id": 1})
        with pytest.raises(OperationFailure) as info:
            coll.insert_one({"_id": 1}, session=s)
        _assert_write_conflict(info)
        s.abort_transaction()

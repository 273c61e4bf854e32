"""A partial unique index holds only the documents its filter matches (issue 17, D4).

Manual, "Partial Indexes": a unique partial index applies the uniqueness constraint only to
the documents that meet the filter; the others have no key in it, so equal values among
them neither collide nor conflict.
"""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError


def _partial_unique(coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("a", unique=True, partialFilterExpression={"active": True})


def test_uncovered_documents_from_two_transactions(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _partial_unique(coll)
    with client.start_session() as s1, client.start_session() as s2:
        s1.start_transaction()
        coll.insert_one({"_id": 0, "a": "same", "active": False}, session=s1)
        s2.start_transaction()
        coll.insert_one({"_id": 1, "a": "same", "active": False}, session=s2)
        coll.delete_one({"_id": 1}, session=s2)
        s2.commit_transaction()
        coll.delete_one({"_id": 0}, session=s1)
        s1.commit_transaction()
    assert coll.count_documents({}) == 0


def test_uncovered_documents_committed_by_both(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _partial_unique(coll)
    with client.start_session() as s1, client.start_session() as s2:
        s1.start_transaction()
        s2.start_transaction()
        coll.insert_one({"_id": 0, "a": "same", "active": False}, session=s1)
        coll.insert_one({"_id": 1, "a": "same", "active": False}, session=s2)
        s1.commit_transaction()
        s2.commit_transaction()
    assert coll.count_documents({"a": "same"}) == 2


def test_uncovered_documents_outside_transactions(coll) -> None:  # type: ignore[no-untyped-def]
    _partial_unique(coll)
    coll.insert_one({"_id": 0, "a": 1, "active": False})
    coll.insert_one({"_id": 1, "a": 1})  # no `active`: the filter does not match either
    coll.insert_one({"_id": 2, "a": 1, "active": True})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"_id": 3, "a": 1, "active": True})
    with pytest.raises(DuplicateKeyError):
        coll.update_one({"_id": 0}, {"$set": {"active": True}})  # now covered: a duplicate
    assert coll.count_documents({"active": True}) == 1


def test_index_builds_over_uncovered_equal_values(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": 0, "a": 1}, {"_id": 1, "a": 1}, {"_id": 2, "a": 1, "active": True}])
    _partial_unique(coll)
    assert "a_1" in coll.index_information()

"""What a transaction's statements may carry and create (issue 17, D5, D8, D9, D10).

- API parameters: every statement, commit and abort included, repeats the first
  statement's, else 347 APIMismatchError and the transaction stays open
  [srv:db/service_entry_point_common.cpp _checkOutSession; jstests api_params_transaction.js].
- create / createIndexes in a transaction whose read concern is not local: 72, before the
  command's own refusals [same function, isCreate].
- No system collection, time-series collection or system.views read in a transaction, and
  no command at all on system.profile [srv:db/catalog/create_collection.cpp;
  db/db_raii.cpp getLockModeForQuery; db/commands/find_and_modify.cpp;
  db/commands.cpp canUseTransactions].
- createIndexes of existing indexes does not wait for a transaction that wrote to the
  collection [srv:db/commands/create_indexes.cpp].
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.errors import OperationFailure
from pymongo.read_concern import ReadConcern


def _code(fn: Any) -> int:
    with pytest.raises(OperationFailure) as err:
        fn()
    return err.value.code  # type: ignore[return-value]


def _insert(coll, session: ClientSession, **params: Any) -> dict:  # type: ignore[no-untyped-def]
    return coll.database.command(
        {"insert": coll.name, "documents": [{}], **params}, session=session
    )


def _end(client: MongoClient, session: ClientSession, name: str, **params: Any) -> dict:
    return client.admin.command({name: 1, **params}, session=session)


def test_api_params_must_repeat_the_first_statements(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 0})
    with client.start_session() as s:
        s.start_transaction()
        _insert(coll, s, apiVersion="1")
        _insert(coll, s, apiVersion="1")  # the same parameters: accepted
        assert _code(lambda: _insert(coll, s)) == 347
        assert _code(lambda: _insert(coll, s, apiVersion="1", apiStrict=False)) == 347
        assert _code(lambda: _end(client, s, "commitTransaction")) == 347
        # Refused before the transaction is touched: it is still open and commits.
        _insert(coll, s, apiVersion="1")
        _end(client, s, "commitTransaction", apiVersion="1")
    assert coll.count_documents({}) == 4


def test_api_params_mismatch_leaves_transaction_open(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 0})
    s = client.start_session()
    s.start_transaction()
    _insert(coll, s, apiVersion="1", apiStrict=True)
    with pytest.raises(OperationFailure) as err:
        _insert(coll, s, apiVersion="1")
    assert err.value.code == 347
    assert err.value.details is not None
    assert err.value.details["codeName"] == "APIMismatchError"
    _end(client, s, "abortTransaction", apiVersion="1", apiStrict=True)
    s.end_session()
    assert coll.count_documents({}) == 1


def test_no_api_params_at_all_is_fine(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s:
        s.start_transaction()
        _insert(coll, s)
        _insert(coll, s)
        s.commit_transaction()
    assert coll.count_documents({}) == 2


@pytest.mark.parametrize("level", ["snapshot", "majority"])
def test_create_needs_local_read_concern(client: MongoClient, coll, level: str) -> None:  # type: ignore[no-untyped-def]
    db = coll.database
    for cmd in (
        {"create": coll.name},
        {"create": "system.js"},  # the read concern is checked first
        {"createIndexes": coll.name, "indexes": [{"key": {"a": 1}, "name": "a_1"}]},
    ):
        with client.start_session() as s:
            s.start_transaction(read_concern=ReadConcern(level))
            with pytest.raises(OperationFailure) as err:
                db.command(cmd, session=s)
            assert err.value.code == 72
            # The failed statement aborted the transaction.
            assert _code(lambda s=s: _end(client, s, "commitTransaction")) == 251


def test_system_collections_in_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    db = coll.database
    db["system.js"].drop()
    cases = [
        (lambda s: db.command("create", "system.js", session=s), 263),
        (lambda s: db["system.js"].create_index("name", session=s), 263),
        (lambda s: db.command("create", "ts", timeseries={"timeField": "t"}, session=s), 263),
        (lambda s: db.command("find", "system.views", session=s), 51071),
        (lambda s: db["system.js"].find_one_and_update({}, {"$set": {"a": 1}}, session=s), 50781),
        (lambda s: db["system.js"].insert_one({}, session=s), 50791),
        (lambda s: db["system.views"].insert_one({}, session=s), 50791),
        (lambda s: db["system.profile"].insert_one({}, session=s), 263),
    ]
    for run, code in cases:
        with client.start_session() as s:
            s.start_transaction(read_concern=ReadConcern("local"))
            assert _code(lambda run=run, s=s: run(s)) == code
    assert "system.js" not in db.list_collection_names()
    assert "ts" not in db.list_collection_names()


def test_existing_index_not_blocked_by_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.create_index("x", name="x_1")
    with client.start_session() as s:
        s.start_transaction()
        coll.insert_one({"x": 1}, session=s)
        # maxTimeMS only bounds a wrong wait; the answer must come at once.
        reply = coll.database.command(
            {"createIndexes": coll.name, "indexes": [{"key": {"x": 1}, "name": "x_1"}]},
            maxTimeMS=30_000,
        )
        assert reply["note"] == "all indexes already exist"
        assert reply["numIndexesBefore"] == reply["numIndexesAfter"] == 2
        s.commit_transaction()

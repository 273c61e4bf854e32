"""Fail points read their data as mongod does, and the test-only ones drivers' own suites
use: onPrimaryTransactionalWrite and maxTimeAlwaysTimeOut."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bson.int64 import Int64
from pymongo import MongoClient
from pymongo.errors import ExecutionTimeout, OperationFailure

from .rawclient import RawClient, new_lsid


@pytest.fixture
def fail_point(client: MongoClient) -> Iterator[Any]:
    names: list[str] = []

    def configure(name: str, mode: Any, data: dict | None = None) -> None:
        names.append(name)
        client.admin.command({"configureFailPoint": name, "mode": mode, "data": data or {}})

    yield configure
    for name in names:
        client.admin.command({"configureFailPoint": name, "mode": "off"})


def test_an_error_code_that_is_no_integer_fails_nothing(client: MongoClient, fail_point) -> None:
    fail_point("failCommand", "alwaysOn", {"failCommands": ["ping"], "errorCode": "x"})
    assert client.admin.command("ping")["ok"] == 1
    fail_point("failCommand", "alwaysOn", {"failCommands": ["ping"], "errorCode": 2.0})
    with pytest.raises(OperationFailure) as info:
        client.admin.command("ping")
    assert info.value.code == 2


def test_block_connection_needs_a_block_time(client: MongoClient, fail_point) -> None:
    fail_point("failCommand", {"times": 1}, {"failCommands": ["ping"], "blockConnection": True})
    with pytest.raises(OperationFailure) as info:
        client.admin.command("ping")
    assert info.value.code == 72
    assert "blockTimeMS" in str(info.value)


def test_max_time_always_times_out(client: MongoClient, coll, fail_point) -> None:
    coll.insert_one({"_id": 1})
    fail_point("maxTimeAlwaysTimeOut", {"times": 1})
    with pytest.raises(ExecutionTimeout) as info:
        coll.find_one({}, max_time_ms=60_000)
    assert info.value.code == 50
    assert coll.find_one({}, max_time_ms=60_000) == {"_id": 1}  # times: 1 is spent
    fail_point("maxTimeAlwaysTimeOut", "alwaysOn")
    assert coll.find_one({}) == {"_id": 1}  # no maxTimeMS, no deadline to expire


def _retryable_insert(lsid: dict, txn: int, doc: dict) -> dict:
    return {
        "insert": "optw",
        "documents": [doc],
        "lsid": lsid,
        "txnNumber": Int64(txn),
        "$db": "test",
    }


def test_on_primary_transactional_write_closes_after_the_write(
    uri: str, client: MongoClient, fail_point
) -> None:
    client.test.optw.drop()
    fail_point("onPrimaryTransactionalWrite", {"times": 1})
    lsid = new_lsid()
    raw = RawClient(uri)
    try:
        raw.send_raw(raw.op_msg(_retryable_insert(lsid, 1, {"_id": 1})))
        with pytest.raises(ConnectionError):
            raw.read_reply()
    finally:
        raw.close()
    raw = RawClient(uri)
    try:
        retried = raw.command(_retryable_insert(lsid, 1, {"_id": 1}))
    finally:
        raw.close()
    assert retried["ok"] == 1 and retried["n"] == 1  # the recorded answer: applied once
    assert client.test.optw.count_documents({}) == 1


def test_on_primary_transactional_write_can_fail_before_commit(
    raw: RawClient, client: MongoClient, fail_point
) -> None:
    client.test.optw.drop()
    data = {"closeConnection": False, "failBeforeCommitExceptionCode": 91}
    fail_point("onPrimaryTransactionalWrite", {"times": 1}, data)
    lsid = new_lsid()
    failed = raw.command(_retryable_insert(lsid, 1, {"_id": 1}))
    assert failed["n"] == 0 and failed["writeErrors"][0]["code"] == 91
    assert "The write must not be reflected" in failed["writeErrors"][0]["errmsg"]
    assert client.test.optw.count_documents({}) == 0
    assert raw.command(_retryable_insert(lsid, 1, {"_id": 1}))["n"] == 1  # the retry runs


def test_on_primary_transactional_write_spares_other_writes(
    uri: str, client: MongoClient, fail_point
) -> None:
    client.test.optw.drop()
    fail_point("onPrimaryTransactionalWrite", "alwaysOn")
    # No txnNumber (retryWrites off), or a transaction's statement: never reached.
    with MongoClient(uri, retryWrites=False, serverSelectionTimeoutMS=5000) as plain:
        plain.test.optw.insert_many([{"_id": 1}, {"_id": 2}])
    with client.start_session() as s, s.start_transaction():
        client.test.optw.insert_one({"_id": 3}, session=s)
    assert client.test.optw.count_documents({}) == 3


def test_a_namespace_picks_a_collectionless_aggregate_apart(
    client: MongoClient, fail_point
) -> None:
    """`aggregate: 1` ($currentOp) is in db.$cmd.aggregate, not in any collection's."""
    client.test.c.insert_one({"_id": 1})
    data = {"failCommands": ["aggregate"], "errorCode": 13, "namespace": "admin.$cmd.aggregate"}
    fail_point("failCommand", {"times": 1}, data)
    assert list(client.test.c.aggregate([])) == [{"_id": 1}]  # not that namespace: no fire
    with pytest.raises(OperationFailure) as info:
        list(client.admin.aggregate([{"$currentOp": {}}]))
    assert info.value.code == 13
    assert isinstance(list(client.admin.aggregate([{"$currentOp": {}}])), list)  # used up

"""prepareTransaction on a replica-set member, and commit / abort of a prepared transaction
(issue 15, item 3) [srv:db/s/txn_two_phase_commit_cmds.cpp PrepareTransactionCmd;
db/transaction/transaction_participant.cpp prepareTransaction, commitPreparedTransaction,
_checkIsCommandValidWithTxnState]."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from bson.int64 import Int64
from bson.timestamp import Timestamp
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.errors import OperationFailure

from .background import in_thread
from .rawclient import RawClient, new_lsid


def _soon(probe: Callable[[], Any], what: str) -> Any:
    """Poll `probe` until it returns something truthy (a generous deadline, no sleeps)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
    raise AssertionError(f"never saw {what}")


def _prepare(client: MongoClient, session: ClientSession, **extra: Any) -> Timestamp:
    reply = client.admin.command({"prepareTransaction": 1, **extra}, session=session)
    ts = reply["prepareTimestamp"]
    assert isinstance(ts, Timestamp) and ts != Timestamp(0, 0)
    return ts


def _prepared(client: MongoClient, coll, write: Callable[[ClientSession], Any]):  # type: ignore[no-untyped-def]
    if coll.name not in coll.database.list_collection_names():
        coll.database.create_collection(coll.name)
    s = client.start_session()
    s.start_transaction()
    write(s)
    return s, _prepare(client, s)


def _commit(client: MongoClient, s: ClientSession, ts: Any) -> dict[str, Any]:
    return client.admin.command({"commitTransaction": 1, "commitTimestamp": ts}, session=s)


def _code(fn: Callable[[], Any]) -> OperationFailure:
    with pytest.raises(OperationFailure) as err:
        fn()
    return err.value


def test_prepare_then_commit_at_the_prepare_timestamp(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    assert _prepare(client, s) == ts  # again: the same timestamp
    assert coll.find_one({"_id": 1}) is None
    assert _commit(client, s, ts)["ok"] == 1
    assert coll.find_one({"_id": 1}) == {"_id": 1}
    s.end_session()


def test_abort_a_prepared_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1, "x": 1})
    s, _ = _prepared(
        client, coll, lambda s: coll.update_one({"_id": 1}, {"$set": {"x": 2}}, session=s)
    )
    client.admin.command("abortTransaction", session=s)
    assert coll.find_one({"_id": 1}) == {"_id": 1, "x": 1}
    s.end_session()


def test_commit_timestamp_rules(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    err = _code(lambda: client.admin.command("commitTransaction", session=s))
    assert err.code == 72 and "must provide commitTimestamp" in str(err)
    assert _code(lambda: _commit(client, s, 5)).code == 14
    assert _code(lambda: _commit(client, s, Timestamp(0, 0))).code == 72
    err = _code(lambda: _commit(client, s, Timestamp(ts.time, ts.inc - 1)))
    assert err.code == 72 and "greater than or equal to 'prepareTimestamp'" in str(err)
    # None of those aborted it: it is still prepared, and commits.
    assert _commit(client, s, ts)["ok"] == 1
    assert coll.find_one({"_id": 1}) == {"_id": 1}
    s.end_session()


def test_commit_timestamp_on_an_unprepared_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s:
        s.start_transaction()
        coll.insert_one({"_id": 1}, session=s)
        err = _code(lambda: _commit(client, s, Timestamp(3, 3)))
        assert err.code == 72
        assert "cannot provide commitTimestamp to unprepared transaction" in str(err)


def test_nothing_else_runs_in_a_prepared_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    s, _ = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    err = _code(lambda: coll.insert_one({"_id": 2}, session=s))
    assert err.code == 267 and err.details is not None
    assert err.details["errorLabels"] == ["TransientTransactionError"]
    assert _code(lambda: coll.find_one({}, session=s)).code == 267
    client.admin.command("abortTransaction", session=s)
    s.end_session()


def test_prepare_refusals(client: MongoClient, coll, raw: RawClient) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s:
        s.start_transaction()
        # The first statement may not be prepareTransaction.
        assert _code(lambda: _prepare(client, s)).code == 263
    lsid = new_lsid()

    def txn(n: int) -> dict[str, Any]:
        return {"lsid": lsid, "txnNumber": Int64(n), "autocommit": False}

    db = coll.database.name
    insert = {"insert": coll.name, "documents": [{}], "$db": db}
    assert raw.command({**insert, **txn(1), "startTransaction": True})["ok"] == 1
    assert raw.command({"commitTransaction": 1, **txn(1)})["ok"] == 1
    assert raw.command({"prepareTransaction": 1, **txn(1)})["code"] == 256
    reply = raw.command({"prepareTransaction": 1, "lsid": lsid, "txnNumber": Int64(1)})
    assert reply["code"] == 50768
    assert raw.command({"prepareTransaction": 1, "lsid": lsid})["code"] == 125
    assert raw.command({"prepareTransaction": 1})["code"] == 125
    assert raw.command({**insert, **txn(2), "startTransaction": True})["ok"] == 1
    assert raw.command({"abortTransaction": 1, **txn(2)})["ok"] == 1
    assert raw.command({"prepareTransaction": 1, **txn(2)})["code"] == 251
    assert raw.command({"prepareTransaction": 1, **txn(3)})["code"] == 251
    assert raw.command({"prepareTransaction": 1, **txn(1)})["code"] == 225


def test_a_read_only_transaction_prepares(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1})
    s, _ = _prepared(client, coll, lambda s: coll.find_one({"_id": 1}, session=s))
    client.admin.command("abortTransaction", session=s)
    s.end_session()


def _ops(client: MongoClient, match: dict[str, Any]) -> list[dict[str, Any]]:
    return list(client.admin.aggregate([{"$currentOp": {}}, {"$match": match}]))


def test_current_op_shows_the_prepared_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    [idle] = _ops(client, {"lsid.id": s.session_id["id"]})
    assert idle["type"] == "idleSession"
    assert idle["transaction"]["prepareTimestamp"] == ts
    assert idle["transaction"]["timePreparedMicros"] >= 0
    client.admin.command("abortTransaction", session=s)
    s.end_session()


def test_a_read_at_the_prepare_time_waits_for_the_commit(
    client: MongoClient, coll, uri: str
) -> None:  # type: ignore[no-untyped-def]
    s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    other = MongoClient(uri)
    find = {"find": coll.name, "filter": {"_id": 1}, "readConcern": {"afterClusterTime": ts}}
    thread, outcome = in_thread(lambda: other[coll.database.name].command(find))
    _soon(
        lambda: _ops(client, {"command.find": coll.name, "prepareReadConflicts": {"$gt": 0}}),
        "the find waiting on the prepared transaction",
    )
    _commit(client, s, ts)
    thread.join()
    assert outcome["reply"]["cursor"]["firstBatch"] == [{"_id": 1}]
    other.close()
    s.end_session()


def test_a_waiting_read_gives_up_at_max_time_ms(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1})
    s, ts = _prepared(
        client, coll, lambda s: coll.update_one({"_id": 1}, {"$set": {"x": 1}}, session=s)
    )
    find = {
        "find": coll.name,
        "filter": {},
        "readConcern": {"afterClusterTime": ts},
        "maxTimeMS": 50,
    }
    assert _code(lambda: coll.database.command(find)).code == 50
    # A read of another document, by _id, does not meet the prepared write.
    coll.insert_one({"_id": 2})
    assert coll.database.command({**find, "filter": {"_id": 2}})["cursor"]["firstBatch"]
    client.admin.command("abortTransaction", session=s)
    s.end_session()


def test_a_transaction_reading_the_document_waits(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1, "x": 1})
    s, _ = _prepared(
        client, coll, lambda s: coll.update_one({"_id": 1}, {"$set": {"x": 2}}, session=s)
    )
    other = MongoClient(uri)
    reader = other.start_session()
    reader.start_transaction()
    other_coll = other[coll.database.name][coll.name]
    thread, outcome = in_thread(lambda: other_coll.find_one({"_id": 1}, session=reader))
    _soon(
        lambda: _ops(client, {"lsid.id": reader.session_id["id"], "prepareReadConflicts": 1}),
        "the transaction's read waiting",
    )
    client.admin.command("abortTransaction", session=s)
    thread.join()
    assert outcome["reply"] == {"_id": 1, "x": 1}
    reader.abort_transaction()
    other.close()
    s.end_session()


def test_a_write_outside_a_transaction_waits(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1, "x": 1})
    s, ts = _prepared(
        client, coll, lambda s: coll.update_one({"_id": 1}, {"$set": {"x": 2}}, session=s)
    )
    other = MongoClient(uri)
    other_coll = other[coll.database.name][coll.name]
    thread, outcome = in_thread(lambda: other_coll.update_one({"_id": 1}, {"$inc": {"x": 10}}))
    [op] = _soon(
        lambda: _ops(client, {"op": "update", "prepareReadConflicts": {"$gt": 0}}),
        "the update waiting on the prepared transaction",
    )
    assert op["ns"] == coll.full_name
    _commit(client, s, ts)
    thread.join()
    assert outcome["reply"].modified_count == 1
    assert coll.find_one({"_id": 1}) == {"_id": 1, "x": 12}
    other.close()
    s.end_session()


def test_a_new_transaction_on_the_session_waits(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    [idle] = _ops(client, {"lsid.id": s.session_id["id"]})
    n = idle["transaction"]["parameters"]["txnNumber"]
    raw = RawClient(uri)
    start = {
        "insert": coll.name,
        "documents": [{"_id": 2}],
        "lsid": s.session_id,
        "txnNumber": Int64(n + 1),
        "startTransaction": True,
        "autocommit": False,
        "$db": coll.database.name,
    }
    thread, outcome = in_thread(lambda: raw.command(start))
    _soon(
        lambda: _ops(client, {"command.insert": coll.name, "command.startTransaction": True}),
        "the new transaction waiting",
    )
    assert "reply" not in outcome
    _commit(client, s, ts)
    thread.join()
    assert outcome["reply"]["ok"] == 1
    raw.command(
        {"abortTransaction": 1, "lsid": s.session_id, "txnNumber": Int64(n + 1)}
        | {"autocommit": False}
    )
    raw.close()
    s.end_session()


def test_kill_sessions_leaves_a_prepared_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    client.admin.command("killSessions", [s.session_id])
    assert _commit(client, s, ts)["ok"] == 1
    assert coll.find_one({"_id": 1}) == {"_id": 1}
    s.end_session()


def test_ddl_on_the_collection_waits_for_the_prepared_transaction(
    client: MongoClient, coll, uri: str
) -> None:  # type: ignore[no-untyped-def]
    s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    other = MongoClient(uri)
    thread, outcome = in_thread(
        lambda: other[coll.database.name].command(
            "createIndexes", coll.name, indexes=[{"key": {"x": 1}, "name": "x_1"}]
        )
    )
    _soon(
        lambda: _ops(client, {"command.createIndexes": coll.name, "waitingForLock": True}),
        "the createIndexes waiting",
    )
    _commit(client, s, ts)
    thread.join()
    assert outcome["reply"]["ok"] == 1
    other.close()
    s.end_session()


def test_out_after_a_change_stream_is_illegal_operation(coll) -> None:  # type: ignore[no-untyped-def]
    pipeline = [{"$changeStream": {}}, {"$out": "elsewhere"}]
    err = _code(lambda: coll.database.command("aggregate", coll.name, pipeline=pipeline, cursor={}))
    assert err.code == 20


def test_a_write_waiting_for_a_transaction_counts_write_conflicts(
    client: MongoClient, coll, uri: str
) -> None:  # type: ignore[no-untyped-def]
    """mongod retries such a write with a backoff, each retry a write conflict; the
    sandbox waits and reports the retries the backoff would have made (jstests
    currentop_blocked_operations.js wants more than 20 while it waits)."""
    coll.database.create_collection(coll.name)
    with client.start_session() as s:
        s.start_transaction()
        coll.insert_one({"_id": 1}, session=s)
        other = MongoClient(uri)
        thread, outcome = in_thread(
            lambda: other[coll.database.name][coll.name].insert_one({"_id": 1, "x": 0})
        )
        _soon(
            lambda: _ops(client, {"command.insert": coll.name, "writeConflicts": {"$gt": 20}}),
            "the insert's write conflicts",
        )
        s.abort_transaction()
        thread.join()
        assert outcome["reply"].inserted_id == 1
        other.close()


def test_a_plain_read_ignores_prepare_conflicts(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    """Local reads outside a transaction, without a cluster time, see the last committed
    version [srv:db/read_concern_mongod.cpp canIgnorePrepareConflicts]; a snapshot read
    before the prepare timestamp does not meet the prepared write either."""
    coll.insert_one({"_id": 1, "x": 1})
    before = coll.database.command("find", coll.name)["operationTime"]
    s, ts = _prepared(
        client, coll, lambda s: coll.update_one({"_id": 1}, {"$set": {"x": 2}}, session=s)
    )
    assert coll.find_one({"_id": 1}) == {"_id": 1, "x": 1}
    assert coll.count_documents({}) == 1
    at = {"level": "snapshot", "atClusterTime": before}
    reply = coll.database.command({"find": coll.name, "readConcern": at, "maxTimeMS": 5000})
    assert reply["cursor"]["firstBatch"] == [{"_id": 1, "x": 1}]
    # At the prepare timestamp it waits.
    at = {"level": "snapshot", "atClusterTime": ts}
    find = {"find": coll.name, "readConcern": at, "maxTimeMS": 50}
    assert _code(lambda: coll.database.command(find)).code == 50
    _commit(client, s, ts)
    assert coll.find_one({"_id": 1}) == {"_id": 1, "x": 2}
    # Committed at its prepare timestamp: a snapshot there sees it (the commit's own oplog
    # entry, and operationTime, come later).
    reply = coll.database.command({**find, "maxTimeMS": 5000})
    assert reply["cursor"]["firstBatch"] == [{"_id": 1, "x": 2}]
    s.end_session()


def test_a_transaction_on_a_temporary_collection_cannot_prepare(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    """applyOps creates a temporary collection (its `create` entry with `temp`); a
    transaction that wrote to it fails to prepare [srv:db/transaction/
    transaction_participant.cpp prepareTransaction]."""
    entry = {
        "op": "c",
        "ns": f"{coll.database.name}.$cmd",
        "o": {"create": coll.name, "temp": True},
    }
    assert coll.database.command("applyOps", [entry])["applied"] == 1
    assert coll.options().get("temp") is True
    with client.start_session() as s:
        s.start_transaction()
        coll.insert_one({"x": 1}, session=s)
        err = _code(lambda: _prepare(client, s))
        assert err.code == 263 and "temporary collection" in str(err)


def test_server_status_counts_prepared_transactions(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    def counts() -> dict[str, int]:
        t = client.admin.command("serverStatus")["transactions"]
        keys = ("totalPrepared", "totalPreparedThenCommitted", "totalPreparedThenAborted")
        return {k: t[k] for k in (*keys, "currentPrepared")}

    before = counts()
    s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    assert counts()["currentPrepared"] == before["currentPrepared"] + 1
    _commit(client, s, ts)
    s2, _ = _prepared(client, coll, lambda s: coll.insert_one({"_id": 2}, session=s))
    client.admin.command("abortTransaction", session=s2)
    after = counts()
    assert after["totalPrepared"] == before["totalPrepared"] + 2
    assert after["totalPreparedThenCommitted"] == before["totalPreparedThenCommitted"] + 1
    assert after["totalPreparedThenAborted"] == before["totalPreparedThenAborted"] + 1
    assert after["currentPrepared"] == before["currentPrepared"]
    s.end_session()
    s2.end_session()


def test_config_transactions_holds_the_prepared_record(
    client: MongoClient, coll, raw: RawClient
) -> None:  # type: ignore[no-untyped-def]
    """config.transactions: the record of a prepared (then committed) transaction; no
    direct write under a session (40528), none resetting a prepared one's session (267),
    no drop while one is prepared (4852500) [srv:db/session/session_catalog_mongod.cpp;
    db/transaction/transaction_participant.cpp invalidate; db/op_observer/
    op_observer_impl.cpp onDropCollection]."""
    s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
    table = client.config.transactions
    mine = {"_id.id": s.session_id["id"]}
    [entry] = list(table.find(mine))
    assert entry["state"] == "prepared" and entry["lastWriteOpTime"]["ts"] == ts
    assert _code(lambda: table.delete_one(mine)).code == 40528
    delete = {"delete": "transactions", "deletes": [{"q": mine, "limit": 1}], "$db": "config"}
    assert raw.command(delete)["code"] == 267
    assert raw.command({"drop": "transactions", "$db": "config"})["code"] == 4852500
    _commit(client, s, ts)
    [entry] = list(table.find(mine))
    assert entry["state"] == "committed" and isinstance(entry["txnNum"], int)
    s.end_session()


def test_the_lifetime_limit_never_aborts_a_prepared_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    """The reaper aborts only transactions in progress [srv:db/transaction/
    transaction_participant.cpp Observer::expiredAsOf]: one started after the prepared one
    is reaped, the prepared one is still there and commits."""
    client.admin.command("setParameter", 1, transactionLifetimeLimitSeconds=1)
    try:
        s, ts = _prepared(client, coll, lambda s: coll.insert_one({"_id": 1}, session=s))
        later = client.start_session()
        later.start_transaction()
        coll.insert_one({"_id": 2}, session=later)
        _soon(
            lambda: not _ops(client, {"lsid.id": later.session_id["id"]}),
            "the later transaction reaped",
        )
        [idle] = _ops(client, {"lsid.id": s.session_id["id"]})
        assert idle["transaction"]["prepareTimestamp"] == ts
        assert _commit(client, s, ts)["ok"] == 1
    finally:
        client.admin.command("setParameter", 1, transactionLifetimeLimitSeconds=60)
    assert coll.find_one({"_id": 1}) == {"_id": 1}
    assert coll.find_one({"_id": 2}) is None
    s.end_session()
    later.end_session()

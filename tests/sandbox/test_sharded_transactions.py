"""Sharded transactions through the router (issue 15 item 2): participants started at
their first statement, one atClusterTime for a snapshot across shards, a single-shard
commit straight to its shard, two-phase commit across shards, a participant's write
conflict aborting everywhere, and the coordinator held after prepare by
hangBeforeWritingDecision, then recovered with the recovery token. Real pymongo over
sockets to the router and to each shard."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from bson.int64 import Int64
from pymongo import MongoClient
from pymongo.errors import OperationFailure
from pymongo.read_concern import ReadConcern

from mongotx_sandbox.sharding.cluster import ThreadedShardedSandbox

from .rawclient import RawClient, new_lsid
from .sharded import shard_client, split_at, start_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThreadedShardedSandbox]:
    c = start_cluster()
    with MongoClient(c.uri) as router:
        split_at(router, "bank.accounts", {"_id": 100}, "shard1")
    yield c
    c.stop()


@pytest.fixture
def accounts(router: MongoClient):  # type: ignore[no-untyped-def]
    """Account 1 on shard0, account 101 on shard1, 100 each."""
    coll = router.bank.accounts
    coll.delete_many({})
    coll.insert_many([{"_id": 1, "balance": 100}, {"_id": 101, "balance": 100}])
    return coll


def _fail_prepare(cluster: ThreadedShardedSandbox, shard: str, on: bool) -> None:
    with shard_client(cluster, shard) as s:
        data = {"failCommands": ["prepareTransaction"], "errorCode": 8}
        mode = {"times": 1} if on else "off"
        s.admin.command("configureFailPoint", "failCommand", mode=mode, data=data)


def _transfer(router: MongoClient, coll, session) -> None:  # type: ignore[no-untyped-def]
    coll.update_one({"_id": 1}, {"$inc": {"balance": -10}}, session=session)
    coll.update_one({"_id": 101}, {"$inc": {"balance": 10}}, session=session)


def _balances(coll) -> list[int]:  # type: ignore[no-untyped-def]
    return [d["balance"] for d in coll.find().sort("_id", 1)]


def test_single_shard_commit_does_not_prepare(cluster, router, accounts) -> None:  # type: ignore[no-untyped-def]
    _fail_prepare(cluster, "shard0", True)  # a prepare would fail: none is sent
    try:
        with router.start_session() as s, s.start_transaction():
            accounts.update_one({"_id": 1}, {"$inc": {"balance": 5}}, session=s)
    finally:
        _fail_prepare(cluster, "shard0", False)
    assert _balances(accounts) == [105, 100]


def test_two_shard_commit_is_two_phase_and_atomic(cluster, router, accounts) -> None:  # type: ignore[no-untyped-def]
    reader = router.start_session()
    reader.start_transaction(read_concern=ReadConcern("snapshot"))
    assert _balances_in(accounts, reader) == [100, 100]  # snapshot taken before
    with router.start_session() as s, s.start_transaction():
        _transfer(router, accounts, s)
    # The older snapshot sees neither write, on either shard; a new one sees both.
    assert _balances_in(accounts, reader) == [100, 100]
    reader.abort_transaction()
    reader.start_transaction(read_concern=ReadConcern("snapshot"))
    assert _balances_in(accounts, reader) == [90, 110]
    reader.abort_transaction()
    reader.end_session()


def _balances_in(coll, session) -> list[int]:  # type: ignore[no-untyped-def]
    return [coll.find_one({"_id": i}, session=session)["balance"] for i in (1, 101)]


def test_a_failed_prepare_aborts_on_every_participant(cluster, router, accounts) -> None:  # type: ignore[no-untyped-def]
    _fail_prepare(cluster, "shard1", True)
    with router.start_session() as s:
        s.start_transaction()
        _transfer(router, accounts, s)
        with pytest.raises(OperationFailure) as info:
            s.commit_transaction()
    assert info.value.code == 251 and info.value.has_error_label("TransientTransactionError")
    assert "from shard shard1" in str(info.value)
    assert _balances(accounts) == [100, 100]


def test_write_conflict_on_one_participant_aborts_all(cluster, router, accounts) -> None:  # type: ignore[no-untyped-def]
    holder = router.start_session()
    holder.start_transaction()
    accounts.update_one({"_id": 101}, {"$set": {"held": True}}, session=holder)
    with router.start_session() as s:
        s.start_transaction()
        accounts.update_one({"_id": 1}, {"$inc": {"balance": -10}}, session=s)
        with pytest.raises(OperationFailure) as info:
            accounts.update_one({"_id": 101}, {"$inc": {"balance": 10}}, session=s)
        assert info.value.code == 112
        assert info.value.has_error_label("TransientTransactionError")
        # The write already made on shard0 is gone with the whole transaction: a plain
        # write to the same document does not conflict with it.
        assert accounts.update_one({"_id": 1}, {"$set": {"free": True}}).modified_count == 1
        with pytest.raises(OperationFailure) as info:
            s.commit_transaction()
        assert info.value.code == 251
    holder.abort_transaction()
    holder.end_session()
    assert _balances(accounts) == [100, 100]


def _prepared_on(cluster: ThreadedShardedSandbox, shard: str) -> bool:
    with shard_client(cluster, shard) as s:
        ops = s.admin.aggregate([{"$currentOp": {"idleSessions": True}}])
        return any("prepareTimestamp" in (op.get("transaction") or {}) for op in ops)


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never saw: {what}"
        time.sleep(0.01)


def test_coordinator_held_after_prepare_then_recovered(cluster, router, accounts) -> None:  # type: ignore[no-untyped-def]
    with shard_client(cluster, "shard0") as coordinator:
        coordinator.admin.command(
            "configureFailPoint", "hangBeforeWritingDecision", mode="alwaysOn"
        )
    lsid = new_lsid()
    first = RawClient(cluster.uri)
    fields: dict[str, Any] = {"lsid": lsid, "txnNumber": Int64(1), "autocommit": False}
    one = {"q": {"_id": 1}, "u": {"$inc": {"balance": -10}}}
    reply = first.command(
        {"update": "accounts", "updates": [one], "startTransaction": True, **fields, "$db": "bank"}
    )
    assert reply["ok"] == 1 and reply["recoveryToken"] == {"recoveryShardId": "shard0"}
    other = {"q": {"_id": 101}, "u": {"$inc": {"balance": 10}}}
    first.command({"update": "accounts", "updates": [other], **fields, "$db": "bank"})
    outcome: dict[str, Any] = {}
    committer = threading.Thread(
        target=lambda: outcome.update(first.command({"commitTransaction": 1, **fields}))
    )
    committer.start()
    _wait_for(lambda: _prepared_on(cluster, "shard1"), "shard1 prepared")
    # The router's $currentOp lists the prepared transaction on both participants.
    ops = router.admin.aggregate([{"$currentOp": {"idleSessions": True, "localOps": True}}])
    prepared = {op["shard"] for op in ops if "prepareTimestamp" in op.get("transaction", {})}
    assert prepared == {"shard0", "shard1"}
    # A read at the latest data needs the prepared document: it waits, and times out.
    with pytest.raises(OperationFailure) as info:
        accounts.with_options(read_concern=ReadConcern("snapshot")).find_one(
            {"_id": 101}, max_time_ms=100
        )
    assert info.value.code == 50
    seen: dict[str, Any] = {}
    waiting = threading.Thread(
        target=lambda: seen.update(
            accounts.with_options(read_concern=ReadConcern("snapshot")).find_one({"_id": 101})
        )
    )
    waiting.start()
    with shard_client(cluster, "shard0") as coordinator:
        coordinator.admin.command("configureFailPoint", "hangBeforeWritingDecision", mode="off")
    # Another router connection learns the decision with the recovery token.
    second = RawClient(cluster.uri)
    recovered = second.command(
        {"commitTransaction": 1, "recoveryToken": {"recoveryShardId": "shard0"}, **fields}
    )
    second.close()
    assert recovered["ok"] == 1
    waiting.join(30)
    committer.join(30)
    first.close()
    assert outcome["ok"] == 1
    assert seen == {"_id": 101, "balance": 110}
    assert _balances(accounts) == [90, 110]


def test_recovery_token_for_an_unknown_transaction(cluster) -> None:  # type: ignore[no-untyped-def]
    raw = RawClient(cluster.uri)
    reply = raw.command(
        {
            "commitTransaction": 1,
            "recoveryToken": {"recoveryShardId": "shard1"},
            "lsid": new_lsid(),
            "txnNumber": Int64(4),
            "autocommit": False,
        }
    )
    raw.close()
    assert reply["code"] == 251 and reply["errorLabels"] == ["TransientTransactionError"]


def test_decision_recovered_through_another_router(cluster, router, accounts) -> None:  # type: ignore[no-untyped-def]
    """The client loses its router after sending commit; a second router, which never saw
    the transaction, answers commitTransaction with the recovery token by asking the
    coordinator shard for the decision."""
    with shard_client(cluster, "shard0") as coordinator:
        coordinator.admin.command(
            "configureFailPoint", "hangBeforeWritingDecision", mode="alwaysOn"
        )
    lsid = new_lsid()
    fields: dict[str, Any] = {"lsid": lsid, "txnNumber": Int64(7), "autocommit": False}
    first = RawClient(cluster.uri)
    for i, start in ((1, True), (101, False)):
        stmt = {"update": "accounts", "updates": [{"q": {"_id": i}, "u": {"$set": {"t": 7}}}]}
        if start:
            stmt["startTransaction"] = True
        assert first.command({**stmt, **fields, "$db": "bank"})["ok"] == 1
    first.send_raw(first.op_msg({"commitTransaction": 1, **fields, "$db": "admin"}))
    _wait_for(lambda: _prepared_on(cluster, "shard1"), "shard1 prepared")
    first.close()  # the router's client is gone; its commit goes on without it
    second_uri = cluster.call(cluster.cluster.add_router)
    outcome: dict[str, Any] = {}
    second = RawClient(second_uri)
    token = {"recoveryShardId": "shard0"}
    recovering = threading.Thread(
        target=lambda: outcome.update(
            second.command({"commitTransaction": 1, "recoveryToken": token, **fields})
        )
    )
    recovering.start()
    with shard_client(cluster, "shard0") as coordinator:
        coordinator.admin.command("configureFailPoint", "hangBeforeWritingDecision", mode="off")
    recovering.join(30)
    second.close()
    assert outcome["ok"] == 1
    assert [d.get("t") for d in accounts.find().sort("_id", 1)] == [7, 7]


def test_unreachable_participant_aborts_everywhere() -> None:
    c = start_cluster()
    try:
        with MongoClient(c.uri, serverSelectionTimeoutMS=5000) as r:
            split_at(r, "bank.accounts", {"_id": 100}, "shard1")
            coll = r.bank.accounts
            coll.insert_many([{"_id": 1, "balance": 100}, {"_id": 101, "balance": 100}])
            with r.start_session() as s:
                s.start_transaction()
                coll.update_one({"_id": 1}, {"$inc": {"balance": -10}}, session=s)
                coll.update_one({"_id": 101}, {"$inc": {"balance": 10}}, session=s)
                c.call(c.cluster.stop_shard, "shard1")
                with pytest.raises(OperationFailure) as info:
                    s.commit_transaction()
            assert info.value.code == 251
            assert info.value.has_error_label("TransientTransactionError")
            assert "from shard shard1" in str(info.value)
            # shard0 prepared and then aborted: its document is as before and free.
            with shard_client(c, "shard0") as s0:
                assert s0.bank.accounts.find_one({"_id": 1}) == {"_id": 1, "balance": 100}
                assert s0.bank.accounts.update_one({"_id": 1}, {"$set": {"x": 1}}).modified_count
    finally:
        c.stop()


def test_router_refuses_a_later_read_concern_and_keeps_the_transaction(cluster, accounts) -> None:  # type: ignore[no-untyped-def]
    raw = RawClient(cluster.uri)
    fields: dict[str, Any] = {"lsid": new_lsid(), "txnNumber": Int64(1), "autocommit": False}
    first = {"find": "accounts", "filter": {"_id": 1}, "startTransaction": True}
    assert raw.command({**first, **fields, "$db": "bank"})["ok"] == 1
    later = {"find": "accounts", "filter": {"_id": 101}, "readConcern": {"level": "snapshot"}}
    reply = raw.command({**later, **fields, "$db": "bank"})
    assert reply["code"] == 72 and "readConcern" in reply["errmsg"]
    assert raw.command({"commitTransaction": 1, **fields})["ok"] == 1  # still open
    raw.close()


def test_abort_after_a_failed_statement_is_no_such_transaction(cluster, router, accounts) -> None:  # type: ignore[no-untyped-def]
    raw = RawClient(cluster.uri)
    fields: dict[str, Any] = {"lsid": new_lsid(), "txnNumber": Int64(1), "autocommit": False}
    ok = {"insert": "accounts", "documents": [{"_id": 5}], "startTransaction": True}
    assert raw.command({**ok, **fields, "$db": "bank"})["ok"] == 1
    dup = {"insert": "accounts", "documents": [{"_id": 5}]}
    assert raw.command({**dup, **fields, "$db": "bank"})["writeErrors"][0]["code"] == 11000
    reply = raw.command({"abortTransaction": 1, **fields})
    assert reply["code"] == 251
    raw.close()
    assert accounts.find_one({"_id": 5}) is None


def test_router_checks_session_fields_as_mongod(cluster, accounts) -> None:  # type: ignore[no-untyped-def]
    raw = RawClient(cluster.uri)
    lsid = new_lsid()
    txn = {"lsid": lsid, "autocommit": False}
    first = {"commitTransaction": 1, "txnNumber": Int64(1), "startTransaction": True, **txn}
    assert raw.command(first)["code"] == 263  # no transaction starts with a commit
    hello_in_txn = {"hello": 1, "txnNumber": Int64(2), "startTransaction": True, **txn}
    assert raw.command(hello_in_txn)["code"] == 263
    more = {"getMore": Int64(1), "collection": "accounts", "lsid": lsid, "txnNumber": Int64(3)}
    assert raw.command({**more, "$db": "bank"})["code"] == 50768
    stmt = {"find": "accounts", "txnNumber": Int64(4), "startTransaction": True, **txn}
    assert raw.command({**stmt, "$db": "bank"})["ok"] == 1
    assert raw.command({"commitTransaction": 1, "txnNumber": Int64(4), **txn})["ok"] == 1
    reply = raw.command({"abortTransaction": 1, "txnNumber": Int64(4), **txn})
    assert reply["code"] == 256 and reply["codeName"] == "TransactionCommitted"
    raw.close()


def test_router_transaction_numbers(cluster, accounts) -> None:  # type: ignore[no-untyped-def]
    raw = RawClient(cluster.uri)
    txn = {"lsid": new_lsid(), "autocommit": False, "$db": "bank"}
    start = {"find": "accounts", "startTransaction": True}
    assert raw.command({**start, "txnNumber": Int64(5), **txn})["ok"] == 1
    assert raw.command({**start, "txnNumber": Int64(5), **txn})["code"] == 117
    assert raw.command({**start, "txnNumber": Int64(4), **txn})["code"] == 225
    commit = {"commitTransaction": 1, "txnNumber": Int64(5), **txn, "$db": "admin"}
    assert raw.command(commit)["ok"] == 1
    after = raw.command({"find": "accounts", "txnNumber": Int64(5), **txn})
    assert after["code"] == 256
    hello = raw.command({"hello": 1, "lsid": txn["lsid"], "txnNumber": Int64(6)})
    assert hello["code"] == 50768
    raw.close()

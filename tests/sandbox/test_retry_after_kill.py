"""A session's durable record (config.transactions) outlives killing or ending it (issue 16, 1).

Expected behaviour: reference §3.2 and §3.11 (../shared/docs/mongodb-transactions.md), and
jstests/core/txns/kill_sessions_kills_transaction.js for a transaction the kill aborted.
"""

from __future__ import annotations

from typing import Any

import pytest
from bson.int64 import Int64
from pymongo import MongoClient, monitoring

from .rawclient import RawClient, new_lsid


def _drop_session(raw: RawClient, how: str, lsid: dict[str, Any]) -> None:
    """Remove the in-memory session the way a client or an operator can."""
    if how == "killAllSessions":
        assert raw.command({"killAllSessions": []})["ok"] == 1
    else:
        assert raw.command({how: [lsid]})["ok"] == 1


@pytest.mark.parametrize("how", ["killAllSessions", "killSessions", "endSessions"])
def test_retried_commit_after_kill_answers_ok(raw: RawClient, coll, how: str) -> None:  # type: ignore[no-untyped-def]
    lsid = new_lsid()
    txn = {"lsid": lsid, "txnNumber": Int64(1), "autocommit": False}
    insert = {"insert": coll.name, "documents": [{"_id": 1}], "startTransaction": True, **txn}
    assert raw.command(insert, db="test")["ok"] == 1
    commit = {"commitTransaction": 1, **txn}
    assert raw.command(commit)["ok"] == 1
    _drop_session(raw, how, lsid)
    retried = raw.command(commit)
    assert retried["ok"] == 1, retried
    assert "errorLabels" not in retried
    # Any other command on the committed transaction: 256 TransactionCommitted (§3.2).
    assert raw.command({"abortTransaction": 1, **txn})["code"] == 256
    # The txnNumber survived too: an older one is too old (§3.2).
    older = {**insert, "txnNumber": Int64(0), "documents": [{"_id": 2}]}
    assert raw.command(older, db="test")["code"] == 225
    assert list(coll.find()) == [{"_id": 1}]


def test_transaction_aborted_by_kill_stays_aborted(raw: RawClient, coll) -> None:  # type: ignore[no-untyped-def]
    """The kill's abort is the recorded outcome: commit and abort retried get 251."""
    lsid = new_lsid()
    txn = {"lsid": lsid, "txnNumber": Int64(3), "autocommit": False}
    insert = {"insert": coll.name, "documents": [{"_id": 1}], "startTransaction": True, **txn}
    assert raw.command(insert, db="test")["ok"] == 1
    _drop_session(raw, "killSessions", lsid)
    for name in ("commitTransaction", "abortTransaction"):
        reply = raw.command({name: 1, **txn})
        assert reply["code"] == 251 and "has been aborted" in reply["errmsg"], reply
    older = {**insert, "txnNumber": Int64(2)}
    assert raw.command(older, db="test")["code"] == 225
    assert coll.count_documents({}) == 0


class _KillAfterFirstCommit(monitoring.CommandListener):
    """Kills every session once the first commit has been applied, before pymongo retries it."""

    def __init__(self, killer: MongoClient) -> None:
        self.killer = killer
        self.killed = False

    def _after(self, name: str) -> None:
        if name == "commitTransaction" and not self.killed:
            self.killed = True
            self.killer.admin.command("killAllSessions", [])

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._after(event.command_name)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        # pymongo reports a reply carrying a writeConcernError as a failure.
        self._after(event.command_name)


def test_with_transaction_commit_reply_lost_then_kill(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    """The commit is applied but its answer is a retryable error; a kill comes before the retry."""
    listener = _KillAfterFirstCommit(client)
    runner: MongoClient = MongoClient(uri, event_listeners=[listener])
    # The commit runs, then its reply carries a retryable writeConcernError (91): pymongo
    # retries the commit as if the reply had been lost.
    client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["commitTransaction"], "writeConcernError": {"code": 91}},
    )
    calls = 0

    def transfer(session: Any) -> None:
        nonlocal calls
        calls += 1
        runner.test[coll.name].insert_one({"ledger": "t1"}, session=session)

    try:
        with runner.start_session() as session:
            session.with_transaction(transfer)
    finally:
        client.admin.command("configureFailPoint", "failCommand", mode="off")
        runner.close()
    assert listener.killed
    assert calls == 1
    assert coll.count_documents({"ledger": "t1"}) == 1


def test_retryable_inc_around_kill_counted_once(raw: RawClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1, "n": 0})
    lsid = new_lsid()
    body = {
        "update": coll.name,
        "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}],
        "lsid": lsid,
        "txnNumber": Int64(7),
    }
    first = raw.command(body, db="test")
    assert first["ok"] == 1 and first["nModified"] == 1
    _drop_session(raw, "killSessions", lsid)
    second = raw.command(body, db="test")
    drop_times = ("$clusterTime", "operationTime")
    assert {k: v for k, v in second.items() if k not in drop_times} == {
        k: v for k, v in first.items() if k not in drop_times
    }
    assert coll.find_one({"_id": 1})["n"] == 1
    assert raw.command({**body, "txnNumber": Int64(6)}, db="test")["code"] == 225

"""The numbered transaction and session rules of issue 2, each against the real server.

Expected behaviour from ../shared/docs/mongodb-transactions.md (sections named per test).
"""

from __future__ import annotations

import threading
import time

import pytest
from bson.int64 import Int64
from pymongo import MongoClient, ReadPreference
from pymongo.errors import DuplicateKeyError, ExecutionTimeout, OperationFailure
from pymongo.read_concern import ReadConcern

from .rawclient import RawClient, new_lsid


def _seed(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": 1, "value": 10}, {"_id": 2, "value": 20}])


# 1. Snapshot at the first statement; read your own writes; others see committed data (§3.3).
def test_snapshot_taken_at_first_statement_not_start(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    with client.start_session() as s:
        s.start_transaction()
        coll.update_one({"_id": 1}, {"$set": {"value": 11}})  # after start, before first stmt
        assert coll.find_one({"_id": 1}, session=s)["value"] == 11  # snapshot opens here
        coll.update_one({"_id": 2}, {"$set": {"value": 21}})  # after the snapshot
        assert coll.find_one({"_id": 2}, session=s)["value"] == 20  # repeatable read
        s.commit_transaction()


def test_reads_own_writes_others_see_committed(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    with client.start_session() as s:
        s.start_transaction()
        coll.update_one({"_id": 1}, {"$inc": {"value": 5}}, session=s)
        coll.insert_one({"_id": 3, "value": 30}, session=s)
        assert coll.find_one({"_id": 1}, session=s)["value"] == 15
        assert coll.count_documents({}, session=s) == 3
        assert coll.find_one({"_id": 1})["value"] == 10
        assert coll.find_one({"_id": 3}) is None
        with client.start_session() as other:
            other.start_transaction()
            assert coll.find_one({"_id": 1}, session=other)["value"] == 10
            other.abort_transaction()
        s.commit_transaction()
    assert coll.find_one({"_id": 1})["value"] == 15
    assert coll.find_one({"_id": 3})["value"] == 30


# 2. Write-write conflicts: first writer wins, immediately (§3.4).
def test_write_conflict_then_no_such_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    with client.start_session() as a, client.start_session() as b:
        a.start_transaction()
        b.start_transaction()
        coll.update_one({"_id": 1}, {"$inc": {"value": 1}}, session=a)
        t0 = time.monotonic()
        with pytest.raises(OperationFailure) as info:
            coll.update_one({"_id": 1}, {"$inc": {"value": 100}}, session=b)
        assert time.monotonic() - t0 < 1.0  # immediate, never waits
        assert info.value.code == 112
        assert info.value.details["codeName"] == "WriteConflict"
        assert info.value.has_error_label("TransientTransactionError")
        with pytest.raises(OperationFailure) as later:
            coll.find_one({"_id": 2}, session=b)
        assert later.value.code == 251
        assert later.value.has_error_label("TransientTransactionError")
        with pytest.raises(OperationFailure) as commit:
            b.commit_transaction()
        assert commit.value.code == 251
        assert commit.value.has_error_label("TransientTransactionError")
        a.commit_transaction()
    assert coll.find_one({"_id": 1})["value"] == 11


def test_conflict_with_commit_after_snapshot(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one({"_id": 2}, session=s)  # snapshot
        coll.update_one({"_id": 1}, {"$set": {"value": 99}})  # committed outside, later
        with pytest.raises(OperationFailure) as info:
            coll.update_one({"_id": 1}, {"$inc": {"value": 1}}, session=s)
        assert info.value.code == 112
        assert info.value.has_error_label("TransientTransactionError")


def test_two_transactions_insert_same_id(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 0})
    with client.start_session() as a, client.start_session() as b:
        a.start_transaction()
        b.start_transaction()
        coll.insert_one({"_id": 7}, session=a)
        with pytest.raises(OperationFailure) as info:
            coll.insert_one({"_id": 7}, session=b)
        assert info.value.code == 112
        assert info.value.has_error_label("TransientTransactionError")
        a.commit_transaction()


# 3. Duplicate key inside a transaction: writeErrors 11000 and the transaction is aborted (§3.7).
def test_duplicate_key_in_transaction_aborts(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    with client.start_session() as s:
        s.start_transaction()
        with pytest.raises(DuplicateKeyError) as info:
            coll.insert_one({"_id": 1}, session=s)
        assert info.value.code == 11000
        assert not info.value.has_error_label("TransientTransactionError")
        with pytest.raises(OperationFailure) as later:
            coll.insert_one({"_id": 9}, session=s)
        assert later.value.code == 251
        assert later.value.has_error_label("TransientTransactionError")
        s.abort_transaction()  # the server's 251 is swallowed by the driver
    assert coll.find_one({"_id": 9}) is None


# 4. A non-transactional write waits for the transaction holding the document (§3.5).
def test_blocked_write_proceeds_after_commit(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    result: dict[str, object] = {}
    with client.start_session() as s:
        s.start_transaction()
        coll.update_one({"_id": 1}, {"$inc": {"value": 1}}, session=s)

        def outside() -> None:
            other = MongoClient(uri)
            try:
                t0 = time.monotonic()
                other.test[coll.name].update_one({"_id": 1}, {"$inc": {"value": 100}})
                result["waited"] = time.monotonic() - t0
            finally:
                other.close()

        thread = threading.Thread(target=outside)
        thread.start()
        time.sleep(0.4)
        assert thread.is_alive(), "the outside write must wait for the transaction"
        # The server keeps serving everyone else meanwhile.
        assert coll.find_one({"_id": 2})["value"] == 20
        coll.update_one({"_id": 2}, {"$inc": {"value": 1}})
        s.commit_transaction()
    thread.join(5)
    assert not thread.is_alive()
    assert coll.find_one({"_id": 1})["value"] == 111  # applied on top of the commit


def test_blocked_write_max_time_ms(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    with client.start_session() as s:
        s.start_transaction()
        coll.update_one({"_id": 1}, {"$inc": {"value": 1}}, session=s)
        t0 = time.monotonic()
        with pytest.raises(ExecutionTimeout) as info:
            coll.database.command(
                "update",
                coll.name,
                updates=[{"q": {"_id": 1}, "u": {"$set": {"x": 1}}}],
                maxTimeMS=200,
            )
        assert info.value.code == 50
        assert 0.15 < time.monotonic() - t0 < 2
        s.abort_transaction()
    assert "x" not in coll.find_one({"_id": 1})


# 5. txnNumber rules (beginOrContinue, §3.2), with exactly the fields a driver would send.
def test_txn_number_rules(raw: RawClient, client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    lsid = new_lsid()

    def cmd(txn: int, extra: dict | None = None, name: str = "find") -> dict:
        body: dict = {name: coll.name} if name == "find" else {name: 1}
        body.update({"lsid": lsid, "txnNumber": Int64(txn), "autocommit": False})
        body.update(extra or {})
        return raw.command(body, db="test" if name == "find" else "admin")

    assert cmd(5, {"startTransaction": True})["ok"] == 1
    assert cmd(5, {"startTransaction": True})["code"] == 117
    assert cmd(4)["code"] == 225
    assert cmd(5)["ok"] == 1
    # A higher number aborts the open transaction and starts a new one.
    assert cmd(6, {"startTransaction": True})["ok"] == 1
    assert cmd(5)["code"] == 225
    assert cmd(6, name="commitTransaction")["ok"] == 1
    assert cmd(6, name="commitTransaction")["ok"] == 1  # retrying a commit is safe
    reply = cmd(6, name="abortTransaction")
    assert reply["code"] == 256 and reply["codeName"] == "TransactionCommitted"
    assert cmd(7, {"startTransaction": True})["ok"] == 1
    assert cmd(7, name="abortTransaction")["ok"] == 1
    aborted = cmd(7)
    assert aborted["code"] == 251 and "TransientTransactionError" in aborted["errorLabels"]
    assert cmd(7, name="commitTransaction")["code"] == 251
    assert cmd(8)["code"] == 251  # continuing a transaction that never started


# 6. Retryable writes: the same lsid and txnNumber is not applied twice (§3.11).
def test_retryable_write_applied_once(raw: RawClient, client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    lsid = new_lsid()
    body = {
        "update": coll.name,
        "updates": [{"q": {"_id": 1}, "u": {"$inc": {"value": 1}}}],
        "lsid": lsid,
        "txnNumber": Int64(1),
    }
    first = raw.command(body, db="test")
    second = raw.command(body, db="test")
    assert first["ok"] == 1 and second["ok"] == 1
    assert second["nModified"] == first["nModified"] == 1
    assert coll.find_one({"_id": 1})["value"] == 11
    stale = raw.command({**body, "txnNumber": Int64(0)}, db="test")
    assert stale["code"] == 225
    status = client.admin.command("serverStatus")["transactions"]
    assert status["retriedCommandsCount"] >= 1


# 7. transactionLifetimeLimitSeconds and the reaper (§3.8).
def test_lifetime_limit_reaper(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    assert (
        client.admin.command("getParameter", 1, transactionLifetimeLimitSeconds=1)[
            "transactionLifetimeLimitSeconds"
        ]
        == 60
    )
    client.admin.command("setParameter", 1, transactionLifetimeLimitSeconds=1)
    try:
        with client.start_session() as s:
            s.start_transaction()
            coll.update_one({"_id": 1}, {"$set": {"value": 0}}, session=s)
            # A waiting outside write is released by the reaper's abort.
            t0 = time.monotonic()
            coll.update_one({"_id": 1}, {"$inc": {"value": 5}})
            assert time.monotonic() - t0 < 10  # released by the reaper, not by a timeout
            with pytest.raises(OperationFailure) as info:
                coll.find_one({"_id": 1}, session=s)
            assert info.value.code == 251
    finally:
        client.admin.command("setParameter", 1, transactionLifetimeLimitSeconds=60)
    assert coll.find_one({"_id": 1})["value"] == 15


# 8. Rules inside transactions (§3.1, §3.10) and cluster time (§6).
def test_count_not_allowed_in_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one({}, session=s)
        with pytest.raises(OperationFailure) as info:
            coll.database.command("count", coll.name, session=s)
        assert info.value.code == 263
        assert not info.value.has_error_label("TransientTransactionError")
        coll.update_one({"_id": 1}, {"$set": {"value": 1}}, session=s)
        s.commit_transaction()  # an error before checkout leaves the transaction usable
    assert coll.find_one({"_id": 1})["value"] == 1


def test_write_and_read_concern_rules(raw: RawClient, client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    lsid = new_lsid()
    base = {"lsid": lsid, "txnNumber": Int64(1), "autocommit": False}
    reply = raw.command(
        {
            "insert": coll.name,
            "documents": [{"_id": 5}],
            "startTransaction": True,
            "writeConcern": {"w": 1},
            **base,
        },
        db="test",
    )
    assert reply["code"] == 72
    reply = raw.command(
        {
            "find": coll.name,
            "startTransaction": True,
            "readConcern": {"level": "linearizable"},
            **base,
        },
        db="test",
    )
    assert reply["code"] == 72
    reply = raw.command(
        {"find": coll.name, "startTransaction": True, "readConcern": {"level": "snapshot"}, **base},
        db="test",
    )
    assert reply["ok"] == 1
    reply = raw.command({"find": coll.name, "readConcern": {"level": "local"}, **base}, db="test")
    assert reply["code"] == 72
    assert raw.command({"abortTransaction": 1, **base})["ok"] in (0, 1)


def test_snapshot_read_at_cluster_time(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    with client.start_session(snapshot=True) as s:
        assert coll.find_one({"_id": 1}, session=s)["value"] == 10
        coll.update_one({"_id": 1}, {"$set": {"value": 50}})
        assert coll.find_one({"_id": 1}, session=s)["value"] == 10  # same atClusterTime
    assert coll.find_one({"_id": 1})["value"] == 50


def test_cluster_time_advances_and_after_cluster_time(
    client: MongoClient, coll, raw: RawClient
) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s:
        coll.insert_one({"_id": 1}, session=s)
        t1 = s.operation_time
        s.start_transaction()
        coll.insert_one({"_id": 2}, session=s)
        s.commit_transaction()
        t2 = s.operation_time
        assert t2 > t1
        assert s.cluster_time["clusterTime"] >= t2
        # Causally consistent read after the commit sees it (afterClusterTime is sent).
        assert coll.find_one({"_id": 2}, session=s) is not None
    future = raw.command(
        {"find": coll.name, "readConcern": {"afterClusterTime": type(t2)(t2.time + 1000, 1)}},
        db="test",
    )
    assert future["code"] == 72


# 9. Abort, expiry, end and killSessions release what the transaction held (§5.2).
@pytest.mark.parametrize("how", ["abort", "endSessions", "killSessions", "killAllSessions"])
def test_release_wakes_waiting_write(
    how: str, raw: RawClient, client: MongoClient, coll, uri: str
) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    lsid = new_lsid()
    base = {"lsid": lsid, "txnNumber": Int64(1), "autocommit": False}
    reply = raw.command(
        {
            "update": coll.name,
            "updates": [{"q": {"_id": 1}, "u": {"$set": {"value": -1}}}],
            "startTransaction": True,
            **base,
        },
        db="test",
    )
    assert reply["ok"] == 1
    done = threading.Event()
    outcome: dict[str, object] = {}

    def outside() -> None:
        other = MongoClient(uri)
        try:
            other.test[coll.name].update_one({"_id": 1}, {"$inc": {"value": 1}})
            outcome["result"] = "applied"
        except OperationFailure as exc:
            outcome["result"] = exc.code
        finally:
            other.close()
            done.set()

    thread = threading.Thread(target=outside)
    thread.start()
    assert not done.wait(0.3)
    if how == "abort":
        raw.command({"abortTransaction": 1, **base})
    elif how == "killAllSessions":
        client.admin.command("killAllSessions", [])
    else:
        raw.command({how: [lsid]})
    assert done.wait(5)
    thread.join()
    if how == "killAllSessions":
        # It kills every session, the waiting write's implicit one too: that write is
        # interrupted (11601) rather than applied.
        assert outcome["result"] == 11601
        assert coll.find_one({"_id": 1})["value"] == 10
    else:
        assert outcome["result"] == "applied"
        assert coll.find_one({"_id": 1})["value"] == 11  # the transaction's write rolled back


def test_async_client_transaction(uri: str) -> None:
    """The same conflict through AsyncMongoClient on its own loop."""
    import asyncio

    from pymongo import AsyncMongoClient

    async def main() -> tuple[int, list[str]]:
        c = AsyncMongoClient(uri)
        coll = c.test.async_conflict
        await coll.drop()
        await coll.insert_one({"_id": 1, "n": 0})
        a = c.start_session()
        b = c.start_session()
        await a.start_transaction()
        await b.start_transaction()
        await coll.update_one({"_id": 1}, {"$inc": {"n": 1}}, session=a)
        try:
            await coll.update_one({"_id": 1}, {"$inc": {"n": 1}}, session=b)
        except OperationFailure as exc:
            code, labels = exc.code, exc.details.get("errorLabels", [])
        await a.commit_transaction()
        await b.abort_transaction()
        await a.end_session()
        await b.end_session()
        assert (await coll.find_one({"_id": 1}))["n"] == 1
        await c.close()
        return code, labels

    code, labels = asyncio.run(main())
    assert code == 112 and labels == ["TransientTransactionError"]


def test_read_preference_and_majority(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    _seed(coll)
    with client.start_session() as s:
        s.start_transaction(read_concern=ReadConcern("majority"))
        assert coll.find_one({"_id": 1}, session=s)["value"] == 10
        s.commit_transaction()
    sec = coll.with_options(read_preference=ReadPreference.PRIMARY_PREFERRED)
    assert sec.find_one({"_id": 2})["value"] == 20


@pytest.mark.parametrize("end", ["commit", "abort"])
def test_blocked_insert_after_transaction_insert(
    end: str, client: MongoClient, coll, uri: str
) -> None:  # type: ignore[no-untyped-def]
    """An outside insert of an _id a transaction inserted waits, then fails with 11000 if the
    transaction committed and succeeds if it aborted (reference §3.5, retry loop)."""
    coll.insert_one({"_id": 0})
    outcome: dict[str, object] = {}
    with client.start_session() as s:
        s.start_transaction()
        coll.insert_one({"_id": 5, "by": "txn"}, session=s)

        def outside() -> None:
            other = MongoClient(uri)
            try:
                other.test[coll.name].insert_one({"_id": 5, "by": "outside"})
                outcome["result"] = "inserted"
            except DuplicateKeyError as exc:
                outcome["result"] = exc.code
            finally:
                other.close()

        thread = threading.Thread(target=outside)
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive()
        if end == "commit":
            s.commit_transaction()
        else:
            s.abort_transaction()
    thread.join(5)
    if end == "commit":
        assert outcome["result"] == 11000
        assert coll.find_one({"_id": 5})["by"] == "txn"
    else:
        assert outcome["result"] == "inserted"
        assert coll.find_one({"_id": 5})["by"] == "outside"


def test_stale_read_then_conflict_on_deleted(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    """Reads in a transaction keep showing a document deleted outside after the snapshot;
    writing it then conflicts (reference §3.3 stale reads, §3.4)."""
    _seed(coll)
    with client.start_session() as s:
        s.start_transaction()
        assert coll.find_one({"_id": 1}, session=s)["value"] == 10
        coll.delete_one({"_id": 1})
        assert coll.find_one({"_id": 1}, session=s)["value"] == 10
        assert coll.count_documents({}, session=s) == 2
        with pytest.raises(OperationFailure) as info:
            coll.update_one({"_id": 1}, {"$set": {"value": 0}}, session=s)
        assert info.value.code == 112


def test_kill_sessions_interrupts_a_waiting_operation(
    client: MongoClient, coll, raw: RawClient, uri: str
) -> None:  # type: ignore[no-untyped-def]
    """killSessions interrupts the session's running operation with 11601 (reference §5.2)."""
    _seed(coll)
    outcome: dict[str, object] = {}
    lsid = new_lsid()
    with client.start_session() as s:
        s.start_transaction()
        coll.update_one({"_id": 1}, {"$set": {"value": 0}}, session=s)

        def blocked() -> None:
            other = RawClient(uri)
            outcome["reply"] = other.command(
                {
                    "update": coll.name,
                    "updates": [{"q": {"_id": 1}, "u": {"$inc": {"value": 1}}}],
                    "lsid": lsid,
                },
                db="test",
            )
            outcome["after"] = other.command({"ping": 1})  # the connection is still usable
            other.close()

        thread = threading.Thread(target=blocked)
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive()
        raw.command({"killSessions": [lsid]})
        thread.join(5)
        assert not thread.is_alive()
        reply = outcome["reply"]
        assert reply["code"] == 11601 and reply["codeName"] == "Interrupted"
        assert outcome["after"]["ok"] == 1
        s.commit_transaction()
    assert coll.find_one({"_id": 1})["value"] == 0  # the interrupted update never ran

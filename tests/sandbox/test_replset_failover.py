"""Issue 13 item 3: step-down, a killed primary and the election after it, transactions
aborted by the election, retryable writes that survive it, w:1 writes rolled back."""

from __future__ import annotations

import threading

import pytest
from bson.int64 import Int64
from pymongo import AsyncMongoClient, MongoClient, ReadPreference
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError
from pymongo.write_concern import WriteConcern

from .rawclient import new_lsid
from .replset_helpers import ReplSet, rclient, rset, wait_for

__all__ = ["rclient", "rset"]


def test_step_down_elects_a_caught_up_secondary_in_a_new_term(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 1})
    before = rclient.admin.command("hello")
    rclient.admin.command("replSetStepDown", 60, secondaryCatchUpPeriodSecs=10)
    new = wait_for(lambda: rset.primary_id() not in (None, 0) and rset.primary_id(), "a primary")
    rclient.test.c.insert_one({"_id": 2})
    assert rclient.primary == _address(rset.hosts[new])
    after = rclient.admin.command("hello")
    assert after["electionId"] > before["electionId"]
    assert rclient.admin.command("replSetGetStatus")["term"] == 2


def test_step_down_aborts_the_open_transaction(rset: ReplSet, rclient: MongoClient) -> None:
    rclient.test.c.insert_one({"_id": 0})
    with rclient.start_session() as session:
        session.start_transaction()
        rclient.test.c.insert_one({"_id": 1}, session=session)
        rclient.admin.command("replSetStepDown", 60)
        with pytest.raises(PyMongoError) as info:
            rclient.test.c.insert_one({"_id": 2}, session=session)
        # Wherever the statement lands (the old primary, now secondary: 10107; the new one:
        # 251 NoSuchTransaction) the transaction is gone and the label says retry it all.
        assert (info.value.details or {}).get("code") in (10107, 251)
        assert info.value.has_error_label("TransientTransactionError")
        session.abort_transaction()
    assert rclient.test.c.find_one({"_id": 1}) is None


def test_a_killed_primary_is_replaced_after_the_election_timeout(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 1})
    rset.on_loop(rset.rs.kill, 0)
    new = wait_for(lambda: rset.primary_id(), "a new primary")
    assert new in (1, 2)
    rclient.test.c.insert_one({"_id": 2})
    assert rclient.primary == _address(rset.hosts[new])
    status = rclient.admin.command("replSetGetStatus")
    assert status["members"][0]["health"] == 0.0


def test_a_w1_write_not_on_a_majority_is_rolled_back_when_the_old_primary_rejoins(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": "kept", "w": "majority"})
    rset.on_loop(rset.rs.pause, 1)
    rset.on_loop(rset.rs.pause, 2)
    lost = rclient.test.command(
        {"insert": "c", "documents": [{"_id": "lost", "w": 1}], "writeConcern": {"w": 1}}
    )
    rset.on_loop(rset.rs.kill, 0)
    rset.on_loop(rset.rs.pause, 1, False)
    rset.on_loop(rset.rs.pause, 2, False)
    wait_for(lambda: rset.primary_id(), "a new primary")
    assert rset.rs.rolled_back == []  # the old primary is down: nothing rolled back yet
    rset.on_loop(rset.rs.restart, 0)
    assert [(r["op"], r["_id"]) for r in rset.rs.rolled_back] == [("insert", "lost")]
    assert sorted(d["_id"] for d in rclient.test.c.find()) == ["kept"]
    status = rclient.test.client.admin.command({"sandboxMember": 0, "action": "status"})
    assert status["rolledBack"][0]["_id"] == "lost"
    # Which member undid it, and the write's optime: the operationTime its reply carried
    # (what a client can match the rolled-back write to).
    assert status["rolledBack"][0]["member"] == rset.hosts[0]
    assert status["rolledBack"][0]["ts"] == lost["operationTime"]


def test_a_retryable_write_survives_a_step_down(rset: ReplSet, rclient: MongoClient) -> None:
    rclient.test.c.insert_one({"_id": 1, "n": 0})
    primary = rset.direct(0)
    # The next update's reply is lost after it applied: the driver retries it on whichever
    # member is primary by then, which must know it ran.
    primary.admin.command(
        "configureFailPoint",
        "onPrimaryTransactionalWrite",
        mode={"times": 1},
        data={"closeConnection": True},
    )
    rset.on_loop(rset.rs.set_delay, 1, 0)

    def step_down_soon() -> None:
        wait_for(lambda: rset.rs.members[0].state.fail_points == {}, "the fail point to fire")
        try:
            primary.admin.command("replSetStepDown", 60)
        except PyMongoError:
            pass

    stepper = threading.Thread(target=step_down_soon)
    stepper.start()
    rclient.test.c.update_one({"_id": 1}, {"$inc": {"n": 1}})
    stepper.join(60)
    primary.close()
    assert rclient.test.c.find_one({"_id": 1}) == {"_id": 1, "n": 1}


def test_failover_under_retryable_load_loses_no_majority_write_and_doubles_none(
    rset: ReplSet, rclient: MongoClient
) -> None:
    acknowledged: list[int] = []
    failed: list[int] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        coll = rclient.test.c
        k = 0
        while not stop.is_set():
            key = worker * 1_000_000 + k
            k += 1
            try:
                coll.update_one({"_id": key}, {"$inc": {"n": 1}}, upsert=True)
                acknowledged.append(key)
            except (ConnectionFailure, OperationFailure):
                failed.append(key)

    workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for t in workers:
        t.start()
    wait_for(lambda: len(acknowledged) > 50, "some writes")
    rset.on_loop(rset.rs.kill, 0)
    wait_for(lambda: rset.primary_id(), "a new primary")
    mark = len(acknowledged)
    wait_for(lambda: len(acknowledged) > mark + 50, "writes on the new primary")
    rset.on_loop(rset.rs.restart, 0)
    mark = len(acknowledged)
    wait_for(lambda: len(acknowledged) > mark + 50, "writes after the rejoin")
    stop.set()
    for t in workers:
        t.join(60)
    counts = {d["_id"]: d["n"] for d in rclient.test.c.find()}
    assert all(counts.get(key) == 1 for key in acknowledged)  # none lost
    assert all(n == 1 for n in counts.values())  # none applied twice
    assert all(counts.get(key, 0) <= 1 for key in failed)


def _address(host: str) -> tuple[str, int]:
    name, port = host.rsplit(":", 1)
    return name, int(port)


def test_a_new_primary_answers_a_retried_commit_from_config_transactions(
    rset: ReplSet, rclient: MongoClient
) -> None:
    """The heir had the session in memory from a read; stepping up refreshes it, so the
    commit retried there is answered ok, not NoSuchTransaction."""
    rclient.test.c.insert_one({"_id": 0})
    lsid = new_lsid()
    heir, other, old = rset.raw(1), rset.raw(2), rset.raw(0)
    read = {"find": "c", "$db": "test", "lsid": lsid, "$readPreference": {"mode": "secondary"}}
    assert heir.command(read)["ok"] == 1
    txn = {"lsid": lsid, "txnNumber": Int64(1), "autocommit": False}
    insert = {"insert": "c", "documents": [{"_id": 1}], "$db": "test", "startTransaction": True}
    assert old.command({**insert, **txn})["ok"] == 1
    assert old.command({"commitTransaction": 1, **txn})["ok"] == 1
    assert other.command({"replSetFreeze": 60})["ok"] == 1
    assert old.command({"replSetStepDown": 60})["ok"] == 1
    assert rset.primary_id() == 1
    retried = heir.command({"commitTransaction": 1, **txn})
    assert retried["ok"] == 1, retried
    for raw in (heir, other, old):
        raw.close()


async def test_async_pymongo_follows_a_step_down(rset: ReplSet) -> None:
    client: AsyncMongoClient = AsyncMongoClient(rset.uri, serverSelectionTimeoutMS=30000)
    try:
        coll = client.test.c
        await coll.insert_one({"_id": 1})
        await client.admin.command("replSetStepDown", 60)
        async with client.start_session(causal_consistency=True) as session:
            await coll.insert_one({"_id": 2}, session=session)  # retryable, new primary
            assert await client.primary != _address(rset.hosts[0])
            secondary = coll.with_options(read_preference=ReadPreference.SECONDARY)
            docs = await secondary.find({}, sort=[("_id", 1)], session=session).to_list()
        assert [d["_id"] for d in docs] == [1, 2]  # read after its own write, causally
    finally:
        await client.close()


def test_a_killed_secondary_misses_writes_and_catches_up_when_restarted(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rset.on_loop(rset.rs.kill, 2)
    rclient.test.c.insert_one({"_id": 1})  # a majority is two: the primary and member 1
    all_three = rclient.test.get_collection("c", write_concern=WriteConcern(w=3, wtimeout=100))
    with pytest.raises(PyMongoError):
        all_three.insert_one({"_id": 2})
    status = rclient.admin.command("replSetGetStatus")
    assert status["members"][2]["stateStr"] == "(not reachable/healthy)"
    rset.on_loop(rset.rs.restart, 2)
    member = rset.direct(2)
    secondary = member.test.get_collection("c", read_preference=ReadPreference.SECONDARY)
    wait_for(lambda: secondary.count_documents({}) == 2, "member 2 to catch up")
    member.close()


def test_a_retried_write_whose_first_run_was_rolled_back_runs_again(
    rset: ReplSet, rclient: MongoClient
) -> None:
    """config.transactions is rolled back with the oplog: the new primary has no record of
    the write, so the retry applies it (once), rather than answering from a record whose
    write is gone."""
    rclient.test.c.insert_one({"_id": 0})
    rset.on_loop(rset.rs.pause, 1)
    rset.on_loop(rset.rs.pause, 2)
    lsid = new_lsid()
    insert = {
        "insert": "c",
        "documents": [{"_id": 1}],
        "$db": "test",
        "lsid": lsid,
        "txnNumber": Int64(1),
        "writeConcern": {"w": 1},
    }
    old = rset.raw(0)
    assert old.command(insert)["n"] == 1
    old.close()
    rset.on_loop(rset.rs.kill, 0)
    new = wait_for(lambda: rset.primary_id(), "a new primary")
    primary = rset.raw(new)
    retried = primary.command(insert)
    primary.close()
    assert retried["n"] == 1
    assert sorted(d["_id"] for d in rclient.test.c.find()) == [0, 1]


def test_a_retried_commit_whose_transaction_was_rolled_back_finds_no_transaction(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 0})
    rset.on_loop(rset.rs.pause, 1)
    rset.on_loop(rset.rs.pause, 2)
    txn = {"lsid": new_lsid(), "txnNumber": Int64(1), "autocommit": False}
    commit = {"commitTransaction": 1, **txn, "writeConcern": {"w": 1}}
    old = rset.raw(0)
    insert = {"insert": "c", "documents": [{"_id": 1}], "$db": "test", "startTransaction": True}
    assert old.command({**insert, **txn})["ok"] == 1
    assert old.command(commit)["ok"] == 1
    old.close()
    rset.on_loop(rset.rs.kill, 0)
    new = wait_for(lambda: rset.primary_id(), "a new primary")
    primary = rset.raw(new)
    retried = primary.command(commit)
    primary.close()
    # NoSuchTransaction with TransientTransactionError: the driver runs it all again.
    assert (retried["code"], retried["errorLabels"]) == (251, ["TransientTransactionError"])
    assert rclient.test.c.find_one({"_id": 1}) is None


def test_a_primary_without_a_majority_steps_down_until_one_returns(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 1})
    rset.on_loop(rset.rs.kill, 1)
    rset.on_loop(rset.rs.kill, 2)
    wait_for(lambda: rset.primary_id() is None, "the lone primary to step down")
    raw = rset.raw(0)
    hello = raw.command({"hello": 1})
    raw.close()
    assert hello["secondary"] is True and "primary" not in hello
    rset.on_loop(rset.rs.restart, 1)
    wait_for(lambda: rset.primary_id() is not None, "an election with a majority back")
    rclient.test.c.insert_one({"_id": 2})

"""Issue 13 item 2: secondaries apply the primary's oplog in order, with a delay, pause and
MongoDB's fail points per member; read and write concerns wait on them."""

from __future__ import annotations

import pytest
from bson.timestamp import Timestamp
from pymongo import MongoClient, ReadPreference
from pymongo.errors import OperationFailure, WTimeoutError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from .replset_helpers import ReplSet, rclient, rset, wait_for

__all__ = ["rclient", "rset"]


def _on(rset: ReplSet, i: int, doc_id: int) -> dict | None:
    """Member `i`'s own (possibly stale) copy of document `doc_id`."""
    client = rset.direct(i)
    try:
        coll = client.test.get_collection("c", read_preference=ReadPreference.SECONDARY_PREFERRED)
        return coll.find_one({"_id": doc_id})
    finally:
        client.close()


def _w1(client: MongoClient):  # type: ignore[no-untyped-def]
    return client.test.get_collection("c", write_concern=WriteConcern(w=1))


def test_a_paused_secondary_serves_stale_reads_until_resumed(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 1, "v": 1})
    rset.on_loop(rset.rs.pause, 1)
    _w1(rclient).update_one({"_id": 1}, {"$set": {"v": 2}})
    wait_for(lambda: _on(rset, 2, 1) == {"_id": 1, "v": 2}, "member 2 to apply")
    assert _on(rset, 1, 1) == {"_id": 1, "v": 1}
    rset.on_loop(rset.rs.pause, 1, False)
    wait_for(lambda: _on(rset, 1, 1) == {"_id": 1, "v": 2}, "member 1 to catch up")


@pytest.mark.parametrize("fail_point", ["rsSyncApplyStop", "stopReplProducer"])
def test_mongodb_fail_points_stop_that_member(
    rset: ReplSet, rclient: MongoClient, fail_point: str
) -> None:
    rclient.test.c.insert_one({"_id": 1, "v": 1})
    member = rset.direct(2)
    member.admin.command("configureFailPoint", fail_point, mode="alwaysOn")
    _w1(rclient).update_one({"_id": 1}, {"$set": {"v": 2}})
    wait_for(lambda: _on(rset, 1, 1) == {"_id": 1, "v": 2}, "member 1 to apply")
    assert _on(rset, 2, 1) == {"_id": 1, "v": 1}
    member.admin.command("configureFailPoint", fail_point, mode="off")
    wait_for(lambda: _on(rset, 2, 1) == {"_id": 1, "v": 2}, "member 2 to catch up")
    member.close()


def test_a_delayed_member_lags_and_catches_up_when_the_delay_goes(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rset.on_loop(rset.rs.set_delay, 2, 3600)
    _w1(rclient).insert_one({"_id": 1})
    wait_for(lambda: _on(rset, 1, 1) is not None, "member 1 to apply")
    status = rclient.admin.command("replSetGetStatus")
    assert status["members"][2]["delaySecs"] == 3600
    assert _on(rset, 2, 1) is None
    rset.on_loop(rset.rs.set_delay, 2, 0)
    wait_for(lambda: _on(rset, 2, 1) is not None, "member 2 to apply")


def test_a_secondary_refuses_writes_and_reads_without_secondary_ok(rset: ReplSet) -> None:
    raw = rset.raw(1)
    write = raw.command({"insert": "c", "documents": [{"_id": 1}], "$db": "test"})
    assert (write["code"], write["codeName"]) == (10107, "NotWritablePrimary")
    read = raw.command({"find": "c", "$db": "test"})
    assert (read["code"], read["codeName"]) == (13435, "NotPrimaryNoSecondaryOk")
    ok = raw.command({"find": "c", "$db": "test", "$readPreference": {"mode": "secondary"}})
    assert ok["ok"] == 1
    raw.close()


def test_majority_reads_stay_at_the_commit_point_while_secondaries_lag(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 1, "v": 1})
    rset.on_loop(rset.rs.pause, 1)
    rset.on_loop(rset.rs.pause, 2)
    _w1(rclient).update_one({"_id": 1}, {"$set": {"v": 2}})
    majority = rclient.test.get_collection("c", read_concern=ReadConcern("majority"))
    local = rclient.test.get_collection("c", read_concern=ReadConcern("local"))
    assert majority.find_one({"_id": 1}) == {"_id": 1, "v": 1}
    assert local.find_one({"_id": 1}) == {"_id": 1, "v": 2}
    before = rclient.admin.command("replSetGetStatus")["optimes"]["lastCommittedOpTime"]["ts"]
    rset.on_loop(rset.rs.pause, 2, False)
    wait_for(lambda: majority.find_one({"_id": 1}) == {"_id": 1, "v": 2}, "the commit point")
    after = rclient.admin.command("replSetGetStatus")["optimes"]["lastCommittedOpTime"]["ts"]
    assert after > before


def test_after_cluster_time_waits_for_a_lagging_secondary(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rset.on_loop(rset.rs.pause, 1)
    result = _w1(rclient).insert_one({"_id": 1})
    assert result.acknowledged
    op_time = rclient.admin.command("ping")["operationTime"]
    member = rset.direct(1)
    find = {
        "find": "c",
        "filter": {"_id": 1},
        "readConcern": {"afterClusterTime": op_time},
        "$readPreference": {"mode": "secondary"},
    }
    with pytest.raises(OperationFailure) as info:
        member.test.command({**find, "maxTimeMS": 200})
    assert info.value.code == 50
    rset.on_loop(rset.rs.pause, 1, False)
    reply = member.test.command(find)
    assert reply["cursor"]["firstBatch"] == [{"_id": 1}]
    member.close()


def test_causal_session_reads_its_own_write_from_a_secondary(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rset.on_loop(rset.rs.set_delay, 1, 0.2)
    rset.on_loop(rset.rs.set_delay, 2, 0.2)
    coll = rclient.test.get_collection(
        "c", write_concern=WriteConcern(w=1), read_preference=ReadPreference.SECONDARY
    )
    with rclient.start_session(causal_consistency=True) as session:
        coll.insert_one({"_id": 1}, session=session)
        assert coll.find_one({"_id": 1}, session=session) == {"_id": 1}


def test_write_concern_times_out_with_wtimeout_when_members_lag(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rset.on_loop(rset.rs.pause, 1)
    rset.on_loop(rset.rs.pause, 2)
    for w in (2, "majority"):
        coll = rclient.test.get_collection("c", write_concern=WriteConcern(w=w, wtimeout=100))
        with pytest.raises(WTimeoutError) as info:
            coll.insert_one({"w": str(w)})
        details = info.value.details or {}
        assert details["code"] == 64
        assert details["errInfo"] == {"wtimeout": True}
    rset.on_loop(rset.rs.pause, 2, False)
    ok = rclient.test.get_collection("c", write_concern=WriteConcern(w=2, j=True, wtimeout=60000))
    ok.insert_one({"after": "resume"})


def test_commit_with_wtimeout_gets_unknown_commit_result(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 0})
    rset.on_loop(rset.rs.pause, 1)
    rset.on_loop(rset.rs.pause, 2)
    wc = WriteConcern(w="majority", wtimeout=100)
    with rclient.start_session() as session:
        session.start_transaction(write_concern=wc)
        rclient.test.c.insert_one({"_id": 1}, session=session)
        with pytest.raises(OperationFailure) as info:
            session.commit_transaction()
        assert info.value.has_error_label("UnknownTransactionCommitResult")
        assert info.value.code == 64
        rset.on_loop(rset.rs.pause, 1, False)
        session.commit_transaction()  # the safe retry: committed once
    assert rclient.test.c.count_documents({}) == 2


def test_linearizable_reads_run_on_the_primary_only(rset: ReplSet, rclient: MongoClient) -> None:
    rclient.test.c.insert_one({"_id": 1})
    lin = rclient.test.get_collection("c", read_concern=ReadConcern("linearizable"))
    assert lin.find_one({"_id": 1}) == {"_id": 1}
    raw = rset.raw(1)
    reply = raw.command(
        {
            "find": "c",
            "$db": "test",
            "readConcern": {"level": "linearizable"},
            "$readPreference": {"mode": "secondary"},
        }
    )
    raw.close()
    assert reply["code"] == 10107


def test_snapshot_reads_default_to_the_majority_commit_point(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 1, "v": 1})
    rset.on_loop(rset.rs.pause, 1)
    rset.on_loop(rset.rs.pause, 2)
    _w1(rclient).update_one({"_id": 1}, {"$set": {"v": 2}})
    reply = rclient.test.command(
        {"find": "c", "filter": {"_id": 1}, "readConcern": {"level": "snapshot"}}
    )
    assert reply["cursor"]["firstBatch"] == [{"_id": 1, "v": 1}]
    assert isinstance(reply["cursor"]["atClusterTime"], Timestamp)


def test_an_aggregate_with_out_runs_on_a_secondary_and_writes_through_the_primary(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 1})
    coll = rclient.test.get_collection("c", read_preference=ReadPreference.SECONDARY)
    list(coll.aggregate([{"$out": "copy"}]))
    assert rclient.test.copy.find_one() == {"_id": 1}


def test_change_streams_report_only_majority_committed_writes(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 0})
    seen: list[dict] = []
    with rclient.test.c.watch(max_await_time_ms=50) as stream:
        rset.on_loop(rset.rs.pause, 1)
        rset.on_loop(rset.rs.pause, 2)
        _w1(rclient).insert_one({"_id": 1})
        assert stream.try_next() is None  # applied on the primary only: not reported yet
        rset.on_loop(rset.rs.pause, 1, False)

        def arrived() -> bool:
            event = stream.try_next()
            if event is not None:
                seen.append(event)
            return bool(seen)

        wait_for(arrived, "the change once a majority has it")
    assert seen[0]["documentKey"] == {"_id": 1}


def test_a_stale_read_reports_the_time_it_read_at(rset: ReplSet, rclient: MongoClient) -> None:
    rclient.test.c.insert_one({"_id": 1})
    rset.on_loop(rset.rs.pause, 1)
    wrote = _w1(rclient).insert_one({"_id": 2})
    assert wrote.acknowledged
    latest = rclient.admin.command("replSetGetStatus")["optimes"]["appliedOpTime"]["ts"]
    raw = rset.raw(1)
    reply = raw.command({"find": "c", "$db": "test", "$readPreference": {"mode": "secondary"}})
    raw.close()
    assert [d["_id"] for d in reply["cursor"]["firstBatch"]] == [1]
    assert reply["operationTime"] < latest  # not the cluster's time: what member 1 has


def test_a_lagging_secondary_still_has_a_collection_the_primary_dropped(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 1})
    wait_for(lambda: _on(rset, 1, 1) == {"_id": 1}, "member 1 to apply")
    rset.on_loop(rset.rs.pause, 1)
    rclient.test.get_collection("c", write_concern=WriteConcern(w=1)).drop()
    assert rclient.test.c.find_one({"_id": 1}) is None
    assert _on(rset, 1, 1) == {"_id": 1}
    rset.on_loop(rset.rs.pause, 1, False)
    wait_for(lambda: _on(rset, 1, 1) is None, "member 1 to apply the drop")


def test_a_majority_read_after_a_time_waits_for_the_commit_point_on_the_primary(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rset.on_loop(rset.rs.pause, 1)
    rset.on_loop(rset.rs.pause, 2)
    _w1(rclient).insert_one({"_id": 1})
    after = rclient.admin.command("replSetGetStatus")["optimes"]["appliedOpTime"]["ts"]
    find = {
        "find": "c",
        "filter": {"_id": 1},
        "readConcern": {"level": "majority", "afterClusterTime": after},
    }
    with pytest.raises(OperationFailure) as info:
        rclient.test.command({**find, "maxTimeMS": 100})
    assert info.value.code == 50
    rset.on_loop(rset.rs.pause, 2, False)
    assert rclient.test.command(find)["cursor"]["firstBatch"] == [{"_id": 1}]

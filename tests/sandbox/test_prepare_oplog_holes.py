"""The fail point hangAfterReservingPrepareTimestamp and the oplog hole it leaves (issue 15,
item 3): a read with afterClusterTime at or past the reserved, unwritten prepare slot waits
until it is written; a snapshot read picks a time below it [srv:db/transaction/
transaction_participant.cpp Participant::prepareTransaction; db/read_concern_mongod.cpp
waitForReadConcernImpl; db/storage/wiredtiger/wiredtiger_kv_engine.cpp
getAllDurableTimestamp]."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bson.timestamp import Timestamp
from pymongo import MongoClient
from pymongo.errors import OperationFailure
from pymongo.read_concern import ReadConcern

from .background import in_thread

HANG = "hangAfterReservingPrepareTimestamp"


class HungPrepare:
    """A transaction that updated {_id: 1} and whose prepareTransaction hangs at the fail
    point, in a thread, its slot reserved; `release` turns the fail point off."""

    def __init__(self, client: MongoClient, uri: str, coll) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.other = MongoClient(uri)
        self.committed = False
        self.before = Timestamp(0, 0)
        self.session = self.other.start_session(causal_consistency=False)
        self.session.start_transaction()
        ocoll = self.other[coll.database.name][coll.name]
        ocoll.update_one({"_id": 1}, {"$inc": {"x": 1}}, session=self.session)
        on = {"configureFailPoint": HANG, "mode": "alwaysOn"}
        count = client.admin.command(on)["count"]
        prepare = {"prepareTransaction": 1}
        self.thread, self.outcome = in_thread(
            lambda: self.other.admin.command(prepare, session=self.session)
        )
        wait = {"waitForFailPoint": HANG, "timesEntered": count + 1, "maxTimeMS": 60000}
        assert client.admin.command(wait)["ok"] == 1

    def release(self) -> Timestamp:
        self.client.admin.command({"configureFailPoint": HANG, "mode": "off"})
        self.thread.join()
        ts = self.outcome["reply"]["prepareTimestamp"]
        assert isinstance(ts, Timestamp)
        return ts

    def commit(self, ts: Timestamp) -> None:
        commit = {"commitTransaction": 1, "commitTimestamp": ts}
        self.other.admin.command(commit, session=self.session)
        self.committed = True

    def close(self) -> None:
        self.client.admin.command({"configureFailPoint": HANG, "mode": "off"})
        self.thread.join()
        if "reply" in self.outcome and not self.committed:
            self.other.admin.command("abortTransaction", session=self.session)
        self.session.end_session()
        self.other.close()


@pytest.fixture
def hung(client: MongoClient, uri: str, coll) -> Iterator[HungPrepare]:  # type: ignore[no-untyped-def]
    docs = [{"_id": 1, "x": 1}, {"_id": 2, "y": 7}]
    written = coll.database.command({"insert": coll.name, "documents": docs})
    prep = HungPrepare(client, uri, coll)
    prep.before = written["operationTime"]  # below the prepare's slot
    try:
        yield prep
    finally:
        prep.close()


def _find(coll, filter: dict[str, Any], **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return coll.database.command({"find": coll.name, "filter": filter, **extra})


def _code(fn: Callable[[], Any]) -> int | None:
    with pytest.raises(OperationFailure) as err:
        fn()
    return err.value.code


def test_the_fail_point_holds_the_prepare(client: MongoClient, coll, hung: HungPrepare) -> None:  # type: ignore[no-untyped-def]
    assert hung.outcome == {}  # waitForFailPoint saw it enter: it holds
    ops = client.admin.aggregate([{"$currentOp": {}}, {"$match": {"failpointMsg": HANG}}])
    assert [op["command"].get("prepareTransaction") for op in ops] == [1]
    # A write meanwhile takes a later slot: the prepare's was reserved before it.
    later = coll.database.command({"insert": coll.name, "documents": [{"_id": 3}]})
    ts = hung.release()
    assert ts < later["operationTime"]
    # Prepared now: a read at the latest data meets its write and gives up at maxTimeMS.
    after = {"readConcern": {"afterClusterTime": later["operationTime"]}, "maxTimeMS": 100}
    assert _code(lambda: _find(coll, {"_id": 1}, **after)) == 50
    hung.commit(ts)
    assert coll.find_one({"_id": 1}) == {"_id": 1, "x": 2}


def test_after_cluster_time_past_the_hole_waits_until_it_is_written(
    client: MongoClient,
    uri: str,
    coll,  # type: ignore[no-untyped-def]
    hung: HungPrepare,
) -> None:
    later = coll.database.command({"insert": coll.name, "documents": [{"_id": 3}]})
    past = {"readConcern": {"afterClusterTime": later["operationTime"]}}
    # Both documents, even the one the transaction did not write: the wait is for the
    # oplog, not for a document.
    for doc_id in (1, 2):
        assert _code(lambda d=doc_id: _find(coll, {"_id": d}, **past, maxTimeMS=100)) == 50
    # A time below the hole is visible already; a plain read never waits.
    below = {"readConcern": {"afterClusterTime": hung.before}}
    assert _find(coll, {"_id": 2}, **below)["cursor"]["firstBatch"] == [{"_id": 2, "y": 7}]
    assert _find(coll, {"_id": 1})["cursor"]["firstBatch"] == [{"_id": 1, "x": 1}]
    # A read waiting past the hole returns once the prepare entry is written.
    reader = MongoClient(uri)
    rcoll = reader[coll.database.name][coll.name]
    thread, outcome = in_thread(lambda: _find(rcoll, {"_id": 2}, **past))
    waiting = [{"$currentOp": {}}, {"$match": {"command.find": coll.name}}]
    deadline = time.monotonic() + 60
    while not list(client.admin.aggregate(waiting)):
        assert time.monotonic() < deadline, "never saw the find waiting"
    assert outcome == {}
    hung.release()
    thread.join()
    assert outcome["reply"]["cursor"]["firstBatch"] == [{"_id": 2, "y": 7}]
    reader.close()


def test_a_snapshot_read_picks_a_time_below_the_hole(
    client: MongoClient,
    coll,  # type: ignore[no-untyped-def]
    hung: HungPrepare,
) -> None:
    later = coll.database.command({"insert": coll.name, "documents": [{"_id": 3}]})
    # A snapshot at a given time past the hole waits for it, as afterClusterTime does.
    at = {"readConcern": {"level": "snapshot", "atClusterTime": later["operationTime"]}}
    assert _code(lambda: _find(coll, {"_id": 2}, **at, maxTimeMS=100)) == 50
    s = client.start_session(causal_consistency=False)
    s.start_transaction(read_concern=ReadConcern("snapshot"))
    # Neither blocked by the transaction being prepared nor shown what was written after
    # the hole: {_id: 3} is past the snapshot.
    assert list(coll.find({}, session=s).sort("_id", 1)) == [
        {"_id": 1, "x": 1},
        {"_id": 2, "y": 7},
    ]
    s.abort_transaction()
    snap = _find(coll, {}, readConcern={"level": "snapshot"})["cursor"]
    assert [d["_id"] for d in snap["firstBatch"]] == [1, 2]
    ts = hung.release()
    assert snap["atClusterTime"] < ts
    # With the hole written, a new snapshot is past the prepare: {_id: 3} is seen and
    # {_id: 1} meets the prepared write.
    s.start_transaction(read_concern=ReadConcern("snapshot"))
    assert coll.find_one({"_id": 3}, session=s) == {"_id": 3}
    with pytest.raises(OperationFailure) as err:
        coll.find_one({"_id": 1}, session=s, max_time_ms=100)
    assert err.value.code == 50
    s.end_session()

"""Snapshot history is kept as long as minSnapshotHistoryWindowInSeconds and open snapshots
need it, and within a memory budget; reads before the oldest timestamp answer 239
SnapshotTooOld (issue 16 item 4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bson.timestamp import Timestamp
from pymongo import MongoClient
from pymongo.errors import OperationFailure

MIB = 1024 * 1024


@pytest.fixture
def window(client: MongoClient) -> Iterator[Any]:
    """Set the history window for one test; back to the default of 300 s afterwards."""

    def set_window(seconds: int) -> int:
        reply = client.admin.command(
            {"setParameter": 1, "minSnapshotHistoryWindowInSeconds": seconds}
        )
        return reply["was"]

    yield set_window
    set_window(300)


def _write(coll: Any, doc_id: int, **fields: Any) -> Timestamp:
    reply = coll.database.command(
        {
            "update": coll.name,
            "updates": [{"q": {"_id": doc_id}, "u": {"$set": fields}, "upsert": True}],
        }
    )
    return reply["operationTime"]


def _read_at(coll: Any, ts: Timestamp) -> list[dict[str, Any]]:
    reply = coll.database.command(
        {
            "find": coll.name,
            "readConcern": {"level": "snapshot", "atClusterTime": ts},
        }
    )
    return reply["cursor"]["firstBatch"]


def test_the_default_window_keeps_history_for_snapshot_reads(coll) -> None:  # type: ignore[no-untyped-def]
    t1 = _write(coll, 1, v=1)
    _write(coll, 1, v=2)
    assert _read_at(coll, t1) == [{"_id": 1, "v": 1}]


def test_a_read_before_the_window_answers_snapshot_too_old(coll, window, client) -> None:  # type: ignore[no-untyped-def]
    assert window(0) == 300
    got = client.admin.command({"getParameter": 1, "minSnapshotHistoryWindowInSeconds": 1})
    assert got["minSnapshotHistoryWindowInSeconds"] == 0
    t1 = _write(coll, 1, v=1)
    t2 = _write(coll, 1, v=2)
    with pytest.raises(OperationFailure) as err:
        _read_at(coll, t1)
    assert err.value.code == 239
    assert err.value.details["codeName"] == "SnapshotTooOld"
    assert err.value.details["errmsg"] == (
        f"Read timestamp Timestamp({t1.time}, {t1.inc}) is older than the oldest available "
        "timestamp."
    )
    assert _read_at(coll, t2) == [{"_id": 1, "v": 2}]
    # Widening the window again does not bring the dropped history back.
    window(300)
    with pytest.raises(OperationFailure) as err:
        _read_at(coll, t1)
    assert err.value.code == 239


def test_an_open_transaction_pins_its_snapshot(coll, window, client) -> None:  # type: ignore[no-untyped-def]
    window(0)
    _write(coll, 1, v=0)
    with client.start_session() as s:
        s.start_transaction()
        assert coll.find_one({"_id": 1}, session=s) == {"_id": 1, "v": 0}
        for i in range(1, 6):
            _write(coll, 1, v=i)
        # The window is 0 s, but the transaction's snapshot still reads its version.
        assert coll.find_one({"_id": 1}, session=s) == {"_id": 1, "v": 0}
        s.commit_transaction()
    assert coll.find_one({"_id": 1}) == {"_id": 1, "v": 5}


def test_history_over_the_budget_shrinks_the_window_but_not_open_snapshots(coll, client) -> None:  # type: ignore[no-untyped-def]
    pad = "x" * MIB
    t0 = _write(coll, 1, v=0, pad=pad)
    with client.start_session() as s:
        s.start_transaction()
        assert coll.find_one({"_id": 1}, {"v": 1}, session=s) == {"_id": 1, "v": 0}
        stamps = [_write(coll, 1, v=i) for i in range(1, 41)]
        # 40 MB of versions in the default window, but the open snapshot keeps its own.
        assert coll.find_one({"_id": 1}, {"v": 1}, session=s) == {"_id": 1, "v": 0}
        s.commit_transaction()
    _write(coll, 1, v=41)
    # Past the budget the oldest timestamp moved forward: the first versions are gone...
    with pytest.raises(OperationFailure) as err:
        _read_at(coll, t0)
    assert err.value.code == 239
    # ...and the recent ones are still there, within the default 300 s window.
    recent = _read_at(coll, stamps[-2])
    assert [d["v"] for d in recent] == [39]

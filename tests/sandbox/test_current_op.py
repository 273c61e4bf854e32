"""What runs and what waits: $currentOp, the currentOp command and killOp (issue 17, D6).

A drop blocked behind an open transaction is listed as an active operation with
`waitingForLock: true` (server: db/curop.cpp CurOp::reportState); the currentOp command is
$currentOp plus a filter, its results in `inprog` (db/commands/current_op_common.cpp);
killOp of its opid makes it fail with 11601 Interrupted (db/commands/kill_op.cpp).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure


def _soon(probe: Callable[[], Any], what: str) -> Any:
    """Poll `probe` until it returns something truthy (a generous deadline, no sleeps)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
    raise AssertionError(f"never saw {what}")


def _blocked_drop(client: MongoClient, coll, uri: str):  # type: ignore[no-untyped-def]
    """An open transaction that wrote to `coll`, and a drop of `coll` in a thread."""
    coll.insert_one({"_id": 0})
    s = client.start_session()
    s.start_transaction()
    coll.insert_one({"_id": 1}, session=s)
    outcome: dict[str, Any] = {}

    def drop() -> None:
        other = MongoClient(uri)
        try:
            outcome["reply"] = other[coll.database.name].command("drop", coll.name)
        except OperationFailure as exc:
            outcome["error"] = exc
        finally:
            other.close()

    thread = threading.Thread(target=drop)
    thread.start()
    return s, thread, outcome


def _waiting_drops(client: MongoClient, name: str) -> list[dict[str, Any]]:
    return list(
        client.admin.aggregate(
            [{"$currentOp": {}}, {"$match": {"command.drop": name, "waitingForLock": True}}]
        )
    )


def test_a_blocked_drop_is_listed_waiting_for_its_lock(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    s, thread, outcome = _blocked_drop(client, coll, uri)
    [op] = _soon(lambda: _waiting_drops(client, coll.name), "the drop waiting for its lock")
    assert op["type"] == "op" and op["active"] is True
    assert op["op"] == "command" and op["ns"] == coll.full_name
    assert isinstance(op["opid"], int) and op["secs_running"] >= 0
    assert op["microsecs_running"] >= 0 and op["desc"].startswith("conn")
    assert op["locks"]["Collection"] == "W"
    # The transaction that blocks it is an idle session beside it.
    idle = [d for d in client.admin.aggregate([{"$currentOp": {}}]) if d["type"] == "idleSession"]
    assert [d["lsid"]["id"] for d in idle] == [s.session_id["id"]]
    # The legacy shell's db.currentOp(filter): the currentOp command.
    inprog = client.admin.command(
        {"currentOp": 1, "command.drop": coll.name, "waitingForLock": True}
    )["inprog"]
    assert [d["opid"] for d in inprog] == [op["opid"]]
    s.commit_transaction()
    thread.join()
    assert outcome["reply"]["ok"] == 1.0
    assert coll.name not in coll.database.list_collection_names()


def test_kill_op_interrupts_a_waiting_drop(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    s, thread, outcome = _blocked_drop(client, coll, uri)
    [op] = _soon(lambda: _waiting_drops(client, coll.name), "the drop waiting for its lock")
    reply = client.admin.command("killOp", op=op["opid"])
    assert reply["info"] == "attempting to kill op"
    thread.join()
    assert outcome["error"].code == 11601
    assert outcome["error"].details["codeName"] == "Interrupted"
    # The transaction is untouched and the collection is still there.
    s.commit_transaction()
    assert sorted(d["_id"] for d in coll.find()) == [0, 1]
    assert _waiting_drops(client, coll.name) == []


def test_current_op_lists_itself_and_idle_connections_with_all(client: MongoClient) -> None:
    mine = client.admin.command({"currentOp": 1, "command.currentOp": 1})["inprog"]
    assert len(mine) == 1 and mine[0]["ns"] == "admin.$cmd" and mine[0]["active"] is True
    other = MongoClient(client.address[0], client.address[1])
    other.admin.command("ping")
    everything = client.admin.command({"currentOp": 1, "$all": True})["inprog"]
    assert any(not d["active"] for d in everything)
    active_only = client.admin.command({"currentOp": 1})["inprog"]
    assert all(d["active"] or d["type"] == "idleSession" for d in active_only)
    other.close()


def test_current_op_is_admin_only_and_not_in_a_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as info:
        client.test.command("currentOp")
    assert info.value.code == 13
    coll.insert_one({})
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one(session=s)
        with pytest.raises(OperationFailure) as info:
            client.admin.command("currentOp", session=s)
        assert info.value.code == 263
        s.abort_transaction()


def test_kill_op_of_a_waiting_transaction_statement_aborts_its_transaction(
    client: MongoClient, coll, uri: str
) -> None:  # type: ignore[no-untyped-def]
    client.admin.command("setParameter", 1, maxTransactionLockRequestTimeoutMillis=-1)
    try:
        s, drop_thread, drop_outcome = _blocked_drop(client, coll, uri)
        _soon(lambda: _waiting_drops(client, coll.name), "the drop waiting for its lock")
        other = MongoClient(uri)
        t2 = other.start_session()
        t2.start_transaction()
        outcome: dict[str, Any] = {}

        def first_use() -> None:
            try:
                other[coll.database.name][coll.name].insert_one({"_id": 2}, session=t2)
            except OperationFailure as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=first_use)
        thread.start()

        def waiting_insert() -> list[dict[str, Any]]:
            return list(
                client.admin.aggregate(
                    [
                        {"$currentOp": {}},
                        {"$match": {"command.insert": coll.name, "waitingForLock": True}},
                    ]
                )
            )

        [op] = _soon(waiting_insert, "the transaction's insert waiting for its lock")
        assert op["transaction"]["parameters"]["txnNumber"] == 1
        assert op["op"] == "insert" and op["lsid"]["id"] == t2.session_id["id"]
        client.admin.command("killOp", op=op["opid"])
        thread.join()
        assert outcome["error"].code == 11601
        with pytest.raises(OperationFailure) as info:
            t2.commit_transaction()
        assert info.value.code == 251
        s.commit_transaction()
        drop_thread.join()
        assert drop_outcome["reply"]["ok"] == 1.0
        t2.end_session()
        other.close()
    finally:
        client.admin.command("setParameter", 1, maxTransactionLockRequestTimeoutMillis=5)


@pytest.mark.parametrize("options", [{"nosuch": True}, {"idleSessions": 1}, 5])
def test_current_op_stage_options_are_checked(client: MongoClient, options: Any) -> None:
    with pytest.raises(OperationFailure) as info:
        list(client.admin.aggregate([{"$currentOp": options}]))
    assert info.value.code == 9


def test_idle_cursors_are_listed_when_asked(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i} for i in range(5)])
    reply = coll.database.command("find", coll.name, batchSize=2)
    cursor_id = reply["cursor"]["id"]
    listed = [
        d
        for d in client.admin.aggregate([{"$currentOp": {"idleCursors": True}}])
        if d["type"] == "idleCursor"
    ]
    assert [d["cursor"]["cursorId"] for d in listed if d["ns"] == coll.full_name] == [cursor_id]
    assert all(d["type"] != "idleCursor" for d in client.admin.aggregate([{"$currentOp": {}}]))
    coll.database.command("killCursors", coll.name, cursors=[cursor_id])

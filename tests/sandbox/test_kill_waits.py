"""killOp and killSessions end a statement's wait with 11601 Interrupted, wherever it
waits: on a session another statement holds, on a prepared transaction (a prepare
conflict) [srv:db/commands/kill_op.cpp; db/session/kill_sessions_local.cpp; manual:
killSessions, "In-progress Operations"]."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bson.timestamp import Timestamp
from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox

from .background import in_thread

DEADLINE_SECS = 60.0


def _soon(probe: Callable[[], Any], what: str) -> Any:
    """Poll `probe` until it returns something truthy (a generous deadline)."""
    deadline = time.monotonic() + DEADLINE_SECS
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
    raise AssertionError(f"never saw {what}")


def _interrupted(thread: threading.Thread, outcome: dict[str, Any]) -> None:
    thread.join(DEADLINE_SECS)
    assert not thread.is_alive()
    error = outcome["error"]
    assert error.code == 11601 and error.details["codeName"] == "Interrupted"


def _ops(client: MongoClient, match: dict[str, Any]) -> list[dict[str, Any]]:
    pipeline = [{"$currentOp": {}}, {"$match": match}]
    return list(client.admin.aggregate(pipeline))


def test_kill_sessions_interrupts_a_statement_waiting_for_the_session(
    sandbox: ThreadedSandbox, client: MongoClient, uri: str, coll
) -> None:  # type: ignore[no-untyped-def]
    """A statement waiting to check its session out is an operation of that session."""
    coll.insert_one({"_id": 1})
    other = MongoClient(uri)
    s = other.start_session()
    other.test[coll.name].find_one({}, session=s)
    lsid = {"id": s.session_id["id"]}

    async def hold() -> Any:
        session = sandbox.server.state.session(lsid)
        await session.checkout.acquire()  # as a statement of the session running
        return session

    session = sandbox.call(hold)
    thread, outcome = in_thread(lambda: other.test.command("find", coll.name, session=s))
    _soon(lambda: _ops(client, {"lsid.id": s.session_id["id"]}), "the find waiting")
    client.admin.command("killSessions", [s.session_id])
    try:
        _interrupted(thread, outcome)
    finally:

        async def release() -> None:
            session.checkout.release()

        sandbox.call(release)
    s.end_session()
    other.close()


def test_kill_op_interrupts_a_read_waiting_on_a_prepared_transaction(
    client: MongoClient, coll, uri: str
) -> None:  # type: ignore[no-untyped-def]
    """A prepare conflict (prepare.before_statement) ends at killOp; the prepared
    transaction is untouched."""
    coll.database.create_collection(coll.name)
    s = client.start_session()
    s.start_transaction()
    coll.insert_one({"_id": 1}, session=s)
    ts = client.admin.command("prepareTransaction", session=s)["prepareTimestamp"]
    assert isinstance(ts, Timestamp)
    other = MongoClient(uri)
    find = {"find": coll.name, "filter": {"_id": 1}, "readConcern": {"afterClusterTime": ts}}
    thread, outcome = in_thread(lambda: other[coll.database.name].command(find))
    [op] = _soon(
        lambda: _ops(client, {"command.find": coll.name, "prepareReadConflicts": {"$gt": 0}}),
        "the find waiting on the prepared transaction",
    )
    client.admin.command("killOp", op=op["opid"])
    _interrupted(thread, outcome)
    client.admin.command({"commitTransaction": 1, "commitTimestamp": ts}, session=s)
    assert coll.find_one({"_id": 1}) == {"_id": 1}
    s.end_session()
    other.close()

"""A kill that lands as a wait ends is never lost (Python 3.11's asyncio.wait_for returned
the wait's result when the task was cancelled in the same loop iteration, CPython
gh-86296; mongotx_sandbox/waits.py).

Each test makes the wait end and kills the operation in one callback on the server's loop,
in that order, which is the order that lost the kill: the statement must fail with 11601
Interrupted, and leave nothing (session checkout, lock) behind.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox
from mongotx_sandbox.operations import RunningOp
from mongotx_sandbox.state import ServerState

from .background import in_thread

# A few rounds each; MONGOTX_RACE_ROUNDS=200 measures a failure rate.
ROUNDS = int(os.environ.get("MONGOTX_RACE_ROUNDS", "3"))
DEADLINE_SECS = 60.0
LONG_MS = 60_000


def _state(sandbox: ThreadedSandbox) -> ServerState:
    return sandbox.server.state


def _on_loop(sandbox: ThreadedSandbox, fn: Callable[[], Any]) -> Any:
    """Run `fn()` on the server's loop, in one callback (nothing else runs in between)."""

    async def call() -> Any:
        return fn()

    return sandbox.call(call)


def _waiting_op(
    sandbox: ThreadedSandbox,
    name: str,
    ready: Callable[[RunningOp], bool],
    thread: threading.Thread,
) -> int:
    """The opid of the running `name` command once `ready(op)` holds (read on the loop)."""

    def find() -> int | None:
        for op in _state(sandbox).operations.running.values():
            if op.name == name and ready(op):
                return op.opid
        return None

    deadline = time.monotonic() + DEADLINE_SECS
    while time.monotonic() < deadline and thread.is_alive():
        opid = _on_loop(sandbox, find)
        if opid is not None:
            return opid
        time.sleep(0.005)
    raise AssertionError(f"no waiting {name}")


def _has_waiters(primitive: Any) -> bool:
    """Whether a task waits on this asyncio Lock or Event: asyncio has no public way to ask,
    and "the op is running" is not enough (it may not have reached the wait yet)."""
    return bool(getattr(primitive, "_waiters", None))


def _interrupted(thread: threading.Thread, outcome: dict[str, Any]) -> bool:
    thread.join(DEADLINE_SECS)
    assert not thread.is_alive()
    error = outcome.get("error")
    return error is not None and error.code == 11601 and error.details["codeName"] == "Interrupted"


def _kill_after(sandbox: ThreadedSandbox, opid: int, release: Callable[[], None]) -> None:
    """End the wait, then kill the op, in the same loop iteration."""

    def both() -> None:
        release()
        assert _state(sandbox).operations.kill(opid)

    _on_loop(sandbox, both)


def _lost(rounds: int, one: Callable[[], bool]) -> int:
    lost = sum(0 if one() else 1 for _ in range(rounds))
    print(f"lost kills: {lost}/{rounds}")
    return lost


def test_kill_as_the_blocking_transaction_ends(
    sandbox: ThreadedSandbox, client: MongoClient, uri: str, coll
) -> None:  # type: ignore[no-untyped-def]
    """A write outside a transaction waits for the transaction holding its document
    (access.OpContext.wait_for); the transaction ends as killOp comes."""
    coll.insert_one({"_id": 9, "x": 0})
    other = MongoClient(uri)

    def one() -> bool:
        s = client.start_session()
        s.start_transaction()
        coll.update_one({"_id": 9}, {"$inc": {"x": 1}}, session=s)
        thread, outcome = in_thread(
            lambda: other.test.command(
                "update",
                coll.name,
                updates=[{"q": {"_id": 9}, "u": {"$set": {"y": 1}}}],
                maxTimeMS=LONG_MS,
            )
        )
        opid = _waiting_op(
            sandbox, "update", lambda op: op.write_conflict_since is not None, thread
        )

        def abort() -> None:
            state = _state(sandbox)
            for txn in state.open_transactions():
                state.abort(txn, "test")

        _kill_after(sandbox, opid, abort)
        ok = _interrupted(thread, outcome)
        s.end_session()
        return ok and coll.find_one({"_id": 9}) == {"_id": 9, "x": 0}

    try:
        assert _lost(ROUNDS, one) == 0
    finally:
        other.close()


def test_kill_as_the_session_is_checked_in(
    sandbox: ThreadedSandbox, client: MongoClient, uri: str, coll
) -> None:  # type: ignore[no-untyped-def]
    """A statement waits for its session's previous one (dispatch._checkout); the session
    is free as killOp comes: the statement fails and the session is not left checked out."""
    coll.insert_one({"_id": 1})
    other = MongoClient(uri)

    def one() -> bool:
        s = other.start_session()
        other.test[coll.name].find_one({}, session=s)  # the server knows the session now
        lsid = {"id": s.session_id["id"]}
        session = _on_loop(sandbox, lambda: _state(sandbox).session(lsid))
        sandbox.call(session.checkout.acquire)  # as a running statement holds it
        thread, outcome = in_thread(
            lambda: other.test.command("find", coll.name, maxTimeMS=LONG_MS, session=s)
        )
        opid = _waiting_op(sandbox, "find", lambda op: _has_waiters(session.checkout), thread)
        _kill_after(sandbox, opid, session.checkout.release)
        ok = _interrupted(thread, outcome)
        free = not _on_loop(sandbox, session.checkout.locked)
        s.end_session()
        return ok and free

    try:
        assert _lost(ROUNDS, one) == 0
    finally:
        other.close()


def _pending_ddl(sandbox: ThreadedSandbox, coll) -> asyncio.Event:  # type: ignore[no-untyped-def]
    """Mark a DDL on `coll` as waiting for its lock, as locks.exclusive does."""

    def mark() -> asyncio.Event:
        event = asyncio.Event()
        _state(sandbox).ddl_pending[(coll.database.name, coll.name)] = event
        return event

    return _on_loop(sandbox, mark)


def _ddl_done(sandbox: ThreadedSandbox, coll, event: asyncio.Event) -> Callable[[], None]:  # type: ignore[no-untyped-def]
    def done() -> None:
        del _state(sandbox).ddl_pending[(coll.database.name, coll.name)]
        event.set()

    return done


def test_kill_as_the_ddl_lock_is_released(
    sandbox: ThreadedSandbox, client: MongoClient, uri: str, coll
) -> None:  # type: ignore[no-untyped-def]
    """A write outside a transaction waits for a pending DDL (locks._wait)."""
    other = MongoClient(uri)

    def one() -> bool:
        event = _pending_ddl(sandbox, coll)
        thread, outcome = in_thread(
            lambda: other.test.command("insert", coll.name, documents=[{"x": 1}], maxTimeMS=LONG_MS)
        )
        opid = _waiting_op(sandbox, "insert", lambda op: op.waiting_for_lock, thread)
        _kill_after(sandbox, opid, _ddl_done(sandbox, coll, event))
        return _interrupted(thread, outcome) and coll.count_documents({}) == 0

    try:
        assert _lost(ROUNDS, one) == 0
    finally:
        other.close()


@pytest.fixture
def lock_request_timeout(client: MongoClient):  # type: ignore[no-untyped-def]
    """A transaction's lock request waits long enough to be killed while it waits."""
    before = client.admin.command("getParameter", maxTransactionLockRequestTimeoutMillis=1)
    client.admin.command("setParameter", maxTransactionLockRequestTimeoutMillis=LONG_MS)
    yield
    client.admin.command(
        "setParameter",
        maxTransactionLockRequestTimeoutMillis=before["maxTransactionLockRequestTimeoutMillis"],
    )


def test_kill_as_the_ddl_lock_is_released_to_a_transaction(
    sandbox: ThreadedSandbox, client: MongoClient, uri: str, coll, lock_request_timeout
) -> None:  # type: ignore[no-untyped-def]
    """A transaction's first statement on a collection waits for a pending DDL, at most
    maxTransactionLockRequestTimeoutMillis (locks.before_statement)."""
    other = MongoClient(uri)

    def one() -> bool:
        event = _pending_ddl(sandbox, coll)
        s = other.start_session()
        s.start_transaction()
        thread, outcome = in_thread(lambda: other.test[coll.name].insert_one({"x": 1}, session=s))
        opid = _waiting_op(sandbox, "insert", lambda op: op.waiting_for_lock, thread)
        _kill_after(sandbox, opid, _ddl_done(sandbox, coll, event))
        ok = _interrupted(thread, outcome)
        s.end_session()
        return ok and coll.count_documents({}) == 0

    try:
        assert _lost(ROUNDS, one) == 0
    finally:
        other.close()


def test_kill_as_a_change_stream_wakes(
    sandbox: ThreadedSandbox, client: MongoClient, uri: str, coll
) -> None:  # type: ignore[no-untyped-def]
    """An awaiting getMore on a change stream waits for new oplog entries
    (ChangeStreamCursor.next_batch); the oplog moves as killOp comes."""
    coll.insert_one({"_id": 0})
    other = MongoClient(uri)

    def one() -> bool:
        opened = other.test.command(
            "aggregate", coll.name, pipeline=[{"$changeStream": {}}], cursor={}
        )
        cursor_id = opened["cursor"]["id"]
        thread, outcome = in_thread(
            lambda: other.test.command(
                "getMore", cursor_id, collection=coll.name, maxTimeMS=LONG_MS
            )
        )
        opid = _waiting_op(
            sandbox, "getMore", lambda op: _has_waiters(_state(sandbox).oplog_event), thread
        )
        _kill_after(sandbox, opid, _state(sandbox).notify_oplog)
        ok = _interrupted(thread, outcome)
        other.test.command("killCursors", coll.name, cursors=[cursor_id])
        return ok

    try:
        assert _lost(ROUNDS, one) == 0
    finally:
        other.close()

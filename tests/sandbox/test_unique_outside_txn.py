"""A write outside a transaction, adding a unique key an open transaction holds (issue 17, D1).

Adding the key is a write conflict (server: wiredtiger_index.cpp, WiredTigerIndexUnique::
_insert); outside a transaction the server retries the write until the holder ends
(db/concurrency/exception_util.h, writeConflictRetry), bounded by maxTimeMS; then the write
runs on what the transaction left: a duplicate if it committed the key, fine if it aborted.
"""

from __future__ import annotations

import threading
import time

import pytest
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, ExecutionTimeout

from mongotx_sandbox import ThreadedSandbox


def _held_key(client: MongoClient, coll: Collection):  # type: ignore[no-untyped-def]
    """A session whose open transaction has added x: 1."""
    coll.create_index("x", unique=True)
    coll.insert_one({"_id": 9, "x": 0})
    s = client.start_session()
    s.start_transaction()
    coll.insert_one({"_id": 1, "x": 1, "by": "txn"}, session=s)
    return s


def test_insert_waits_for_the_holder(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    s = _held_key(client, coll)
    with pytest.raises(ExecutionTimeout) as info:
        coll.database.command("insert", coll.name, documents=[{"_id": 2, "x": 1}], maxTimeMS=100)
    assert info.value.code == 50
    s.commit_transaction()
    s.end_session()
    assert list(coll.find({"x": 1})) == [{"_id": 1, "x": 1, "by": "txn"}]


def test_update_waits_for_the_holder(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    s = _held_key(client, coll)
    with pytest.raises(ExecutionTimeout):
        coll.database.command(
            "update",
            coll.name,
            updates=[{"q": {"_id": 9}, "u": {"$set": {"x": 1}}}],
            maxTimeMS=100,
        )
    s.abort_transaction()
    s.end_session()
    coll.update_one({"_id": 9}, {"$set": {"x": 1}})  # the key is free again
    assert list(coll.find({"x": 1})) == [{"_id": 9, "x": 1}]


def _waits_for_a_transaction(sandbox: ThreadedSandbox, thread: threading.Thread) -> bool:
    """Whether `thread`'s write is waiting for an open transaction to end: read on the
    server's own loop (there is no client-visible sign of it yet, issue 17 D6)."""

    async def waiting() -> bool:
        return sandbox.server.state.waiting_for_transactions > 0

    while thread.is_alive():
        if sandbox.call(waiting):
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("end", ["commit", "abort"])
@pytest.mark.parametrize("op", ["insert", "update", "findAndModify"])
def test_write_runs_again_when_the_holder_ends(
    end: str, op: str, client: MongoClient, coll, uri: str, sandbox: ThreadedSandbox
) -> None:  # type: ignore[no-untyped-def]
    s = _held_key(client, coll)
    outcome: dict[str, object] = {}

    def outside() -> None:
        other = MongoClient(uri)
        target = other.test[coll.name]
        try:
            if op == "insert":
                target.insert_one({"_id": 2, "x": 1, "by": "outside"})
            elif op == "update":
                target.update_one({"_id": 9}, {"$set": {"x": 1, "by": "outside"}})
            else:
                target.find_one_and_update({"_id": 9}, {"$set": {"x": 1, "by": "outside"}})
            outcome["result"] = "written"
        except DuplicateKeyError as exc:
            outcome["result"] = exc.code
        finally:
            other.close()

    thread = threading.Thread(target=outside)
    thread.start()
    assert _waits_for_a_transaction(sandbox, thread)
    if end == "commit":
        s.commit_transaction()
    else:
        s.abort_transaction()
    s.end_session()
    thread.join()
    holders = [d["by"] for d in coll.find({"x": 1})]
    if end == "commit":
        assert (outcome["result"], holders) == (11000, ["txn"])
    else:
        assert (outcome["result"], holders) == ("written", ["outside"])

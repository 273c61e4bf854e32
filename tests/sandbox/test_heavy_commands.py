"""One CPU-heavy command neither stalls other clients nor outlives its maxTimeMS (issue 16,
item 3). Observed by the order of events, never by timing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

# Nested $lookups over the same 200 documents: millions of document copies, minutes of work,
# so it is still running whatever the machine's load when the test has seen what it needs.
_HEAVY = [
    {
        "$lookup": {
            "from": "heavy",
            "pipeline": [{"$lookup": {"from": "heavy", "pipeline": [], "as": "b"}}],
            "as": "a",
        }
    }
]


@pytest.fixture
def heavy(client: MongoClient):  # type: ignore[no-untyped-def]
    coll = client.test.heavy
    coll.drop()
    coll.insert_many([{"_id": i, "pad": "x" * 20} for i in range(200)])
    return coll


def test_max_time_ms_stops_a_long_aggregation(heavy) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as info:
        list(heavy.aggregate(_HEAVY, maxTimeMS=50))
    assert info.value.code == 50
    assert info.value.details["codeName"] == "MaxTimeMSExpired"


def test_max_time_ms_stops_a_long_regex_scan(uri: str) -> None:
    # Each document runs PCRE2 to its match limit: far more work in all than 100 ms.
    client: MongoClient = MongoClient(uri, socketTimeoutMS=120_000)
    try:
        coll = client.test.heavy_regex
        coll.drop()
        coll.insert_many([{"s": "a" * 26 + "b"} for _ in range(200)])
        with pytest.raises(OperationFailure) as info:
            list(coll.find({"s": {"$regex": "(a+)+$"}}, max_time_ms=100))
        assert info.value.code == 50
    finally:
        client.close()


def _aggregate(client: MongoClient, session: Any) -> None:
    list(client.test.heavy.aggregate(_HEAVY, session=session, maxTimeMS=120_000))


def _regex_find(client: MongoClient, session: Any) -> None:
    # Every document runs PCRE2 to its match limit: about a minute in all.
    query = {"s": {"$regex": "(a+)+$"}}
    list(client.test.heavy_regex.find(query, session=session, max_time_ms=120_000))


@pytest.mark.parametrize("run", [_aggregate, _regex_find], ids=["aggregate", "regex-find"])
def test_ping_is_answered_while_another_client_computes(
    uri: str, heavy, run: Callable[[MongoClient, Any], None]
) -> None:  # type: ignore[no-untyped-def]
    """A runs a heavy command in a transaction; B sees it running ($currentOp: an active
    operation), pings, and the ping's reply comes first; then B kills A's session."""
    a: MongoClient = MongoClient(uri)
    b: MongoClient = MongoClient(uri)
    events: list[str] = []
    outcome: dict[str, Any] = {}
    regex = a.test.heavy_regex
    regex.drop()
    regex.insert_many([{"s": "a" * 26 + "b"} for _ in range(3000)])
    session = a.start_session()
    lsid = session.session_id

    def run_heavy() -> None:
        try:
            session.start_transaction()
            run(a, session)
        except OperationFailure as exc:
            outcome["code"] = exc.code
        events.append("heavy replied")

    worker = threading.Thread(target=run_heavy)
    try:
        b.admin.command("ping")
        worker.start()
        running = False
        while worker.is_alive() and not running:
            ops = list(b.admin.aggregate([{"$currentOp": {}}]))
            running = any(op.get("lsid") == lsid and op.get("active") for op in ops)
        assert running, "the heavy command was never seen running"
        b.admin.command("ping")
        events.append("ping replied")
        b.admin.command("killSessions", [lsid])
        worker.join(120)
        assert not worker.is_alive()
        assert events == ["ping replied", "heavy replied"]
        assert outcome.get("code") in (11601, 251)  # interrupted (or its aborted transaction)
    finally:
        worker.join(120)
        session.end_session()
        a.close()
        b.close()


def test_get_more_await_time_is_no_limit_on_filtering(client: MongoClient) -> None:
    """A change stream's getMore maxTimeMS is its await time: events already there are
    filtered whatever it is (here far longer than 1 ms for 2,000 events)."""
    coll = client.test.await_filter
    coll.drop()
    coll.insert_one({"_id": -1})
    pipeline = [{"$match": {"operationType": "insert"}}]
    with coll.watch(pipeline, max_await_time_ms=1, batch_size=5000) as stream:
        coll.insert_many([{"_id": i} for i in range(2000)])
        change = None
        while change is None:
            change = stream.try_next()
        assert change["fullDocument"] == {"_id": 0}

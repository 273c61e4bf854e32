"""The two-phase commit coordinator over two sandbox members as participants (issue 15,
item 2's coordinator; [srv:db/s/transaction_coordinator.cpp,
transaction_coordinator_util.cpp])."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from bson.int64 import Int64
from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox
from mongotx_sandbox.coordinator import CoordinatorEvent, TransactionCoordinator, WireParticipant

from .rawclient import RawClient, new_lsid


def _participant(name: str, uri: str) -> WireParticipant:
    """The coordinator's own wire participant, to a member's real socket."""
    parsed = urlparse(uri)
    assert parsed.hostname is not None and parsed.port is not None
    return WireParticipant(name, parsed.hostname, parsed.port)


@pytest.fixture(scope="module")
def members() -> Iterator[tuple[ThreadedSandbox, ThreadedSandbox]]:
    a, b = ThreadedSandbox(), ThreadedSandbox()
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


def _begin(uri: str, lsid: dict[str, Any], doc: dict[str, Any]) -> None:
    raw = RawClient(uri)
    reply = raw.command(
        {
            "insert": "coordinated",
            "documents": [doc],
            "lsid": lsid,
            "txnNumber": Int64(1),
            "startTransaction": True,
            "autocommit": False,
            "$db": "test",
        }
    )
    raw.close()
    assert reply["ok"] == 1


def _find(uri: str, doc_id: Any) -> Any:
    with MongoClient(uri) as client:
        return client.test.coordinated.find_one({"_id": doc_id})


def _run(lsid: dict[str, Any], participants: list[WireParticipant]):  # type: ignore[no-untyped-def]
    seen: list[CoordinatorEvent] = []
    coordinator = TransactionCoordinator(lsid, 1, participants, on_event=seen.append)

    async def run():  # type: ignore[no-untyped-def]
        try:
            return await coordinator.run()
        finally:
            for p in participants:
                await p.close()

    return asyncio.run(run()), seen


def test_commit_across_two_participants(members) -> None:  # type: ignore[no-untyped-def]
    a, b = members
    lsid = new_lsid()
    _begin(a.uri, lsid, {"_id": "on-a"})
    _begin(b.uri, lsid, {"_id": "on-b"})
    decision, seen = _run(lsid, [_participant("a", a.uri), _participant("b", b.uri)])
    assert decision.commit
    assert decision.commit_timestamp == max(decision.prepare_timestamps.values())
    assert set(decision.prepare_timestamps) == {"a", "b"}
    kinds = [e.kind for e in seen]
    assert kinds[:2] == ["prepared", "prepared"] and kinds[2] == "decision"
    assert kinds[3:] == ["committed", "committed"]
    assert _find(a.uri, "on-a") == {"_id": "on-a"}
    assert _find(b.uri, "on-b") == {"_id": "on-b"}
    assert decision.reply() == {"ok": 1.0}


def test_a_participant_without_the_transaction_aborts_everywhere(members) -> None:  # type: ignore[no-untyped-def]
    a, b = members
    lsid = new_lsid()
    _begin(a.uri, lsid, {"_id": "only-a"})  # b never saw the transaction
    decision, seen = _run(lsid, [_participant("a", a.uri), _participant("b", b.uri)])
    assert not decision.commit
    assert decision.abort_reason.startswith("from shard b :: caused by :: ")
    assert [e.kind for e in seen] == ["prepared", "voted abort", "decision", "aborted", "aborted"]
    assert _find(a.uri, "only-a") is None
    reply = decision.reply()
    assert reply["code"] == 251 and reply["errorLabels"] == ["TransientTransactionError"]


def test_an_unreachable_participant_aborts_the_others(members) -> None:  # type: ignore[no-untyped-def]
    a, _ = members
    gone = ThreadedSandbox()
    gone.start()
    gone_uri = gone.uri
    gone.stop()
    lsid = new_lsid()
    _begin(a.uri, lsid, {"_id": "lonely"})
    decision, seen = _run(lsid, [_participant("a", a.uri), _participant("c", gone_uri)])
    assert not decision.commit and "from shard c" in decision.abort_reason
    assert [e.kind for e in seen][-2:] == ["aborted", "unacknowledged"]
    assert _find(a.uri, "lonely") is None


def test_participants_are_named_once() -> None:
    p = WireParticipant("a", "127.0.0.1", 1)
    with pytest.raises(ValueError):
        TransactionCoordinator(new_lsid(), 1, [p, p])

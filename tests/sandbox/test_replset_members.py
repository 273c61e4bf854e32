"""Issue 13 item 1: three members, each on its own port, one replica set that pymongo
discovers and monitors (hello per member, awaitable hello, replSetGetStatus)."""

from __future__ import annotations

import struct
import subprocess
import sys
import threading
from typing import Any

import bson
import pytest
from bson.objectid import ObjectId
from bson.timestamp import Timestamp
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import OperationFailure

from .replset_helpers import ReplSet, rclient, rset, wait_for

__all__ = ["rclient", "rset"]


def test_each_member_reports_its_own_role(rset: ReplSet) -> None:
    replies = []
    for i in range(3):
        raw = rset.raw(i)
        replies.append(raw.command({"hello": 1}))
        raw.close()
    primary, *secondaries = replies
    assert primary["isWritablePrimary"] is True and primary["secondary"] is False
    assert isinstance(primary["electionId"], ObjectId)
    for i, reply in enumerate(replies):
        assert reply["hosts"] == rset.hosts
        assert reply["me"] == rset.hosts[i]
        assert reply["primary"] == rset.hosts[0]
        assert reply["setName"] == "rs0" and reply["setVersion"] == 1
        assert set(reply["lastWrite"]) >= {"opTime", "lastWriteDate", "majorityOpTime"}
        assert set(reply["topologyVersion"]) == {"processId", "counter"}
    for reply in secondaries:
        assert reply["isWritablePrimary"] is False and reply["secondary"] is True
        assert "electionId" not in reply


def test_pymongo_discovers_the_set(rset: ReplSet, rclient: MongoClient) -> None:
    rclient.test.c.insert_one({"_id": 1})
    wait_for(lambda: len(rclient.secondaries) == 2, "both secondaries discovered")
    assert rclient.primary == _address(rset.hosts[0])
    assert rclient.secondaries == {_address(h) for h in rset.hosts[1:]}


async def test_async_pymongo_discovers_the_set(rset: ReplSet) -> None:
    client: AsyncMongoClient = AsyncMongoClient(rset.uri, serverSelectionTimeoutMS=30000)
    try:
        await client.test.c.insert_one({"_id": 1})
        assert await client.primary == _address(rset.hosts[0])
    finally:
        await client.close()


def test_awaitable_hello_answers_when_the_topology_changes(rset: ReplSet) -> None:
    raw = rset.raw(1)
    first = raw.command({"hello": 1})
    version = first["topologyVersion"]
    answer: dict[str, Any] = {}

    def wait() -> None:
        # An hour's wait: only a topology change can end it within the test.
        body = {"hello": 1, "topologyVersion": version, "maxAwaitTimeMS": 3_600_000}
        answer.update(raw.command(body))

    waiter = threading.Thread(target=wait)
    waiter.start()
    wait_for(lambda: rset.on_loop(_hello_waiting, rset), "the hello to wait")
    rset.on_loop(rset.rs.pause, 2)
    waiter.join(60)
    raw.close()
    assert answer["topologyVersion"]["processId"] == version["processId"]
    assert answer["topologyVersion"]["counter"] > version["counter"]


def _hello_waiting(rset: ReplSet) -> bool:
    state = rset.rs.members[1].state
    return any(op.name == "hello" for op in state.operations.running.values())


def test_repl_set_get_status_shows_states_optimes_and_commit_point(
    rset: ReplSet, rclient: MongoClient
) -> None:
    rclient.test.c.insert_one({"_id": 1})
    status = rclient.admin.command("replSetGetStatus")
    assert status["myState"] == 1
    assert [m["stateStr"] for m in status["members"]] == ["PRIMARY", "SECONDARY", "SECONDARY"]
    committed = status["optimes"]["lastCommittedOpTime"]["ts"]
    # The insert waited for a majority (the default write concern): it is committed.
    assert committed >= status["members"][0]["optime"]["ts"]
    assert all("lagSecs" in m and "optimeDate" in m for m in status["members"])


def _address(host: str) -> tuple[str, int]:
    name, port = host.rsplit(":", 1)
    return name, int(port)


def test_the_command_line_starts_three_members() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_sandbox", "--members", "3", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        assert uri.count(",") == 2 and uri.endswith("/?replicaSet=rs0"), uri
        with MongoClient(uri, serverSelectionTimeoutMS=30000) as client:
            client.test.c.insert_one({"_id": 1})
            status = client.admin.command("replSetGetStatus")
            assert [m["state"] for m in status["members"]] == [1, 2, 2]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_members_needs_a_replica_set() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mongotx_sandbox", "--members", "3", "--standalone"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--members" in result.stderr and "Traceback" not in result.stderr


def test_an_awaitable_hello_with_exhaust_allowed_streams(rset: ReplSet) -> None:
    """The Node.js driver's monitor needs it: replies flagged moreToCome, each answering the
    one before it (spec: server-discovery-and-monitoring, "Streaming Protocol")."""
    raw = rset.raw(2)
    version = raw.command({"hello": 1})["topologyVersion"]
    body = {"hello": 1, "topologyVersion": version, "maxAwaitTimeMS": 1, "$db": "admin"}
    raw.send_raw(raw.op_msg(body, flags=1 << 16))  # exhaustAllowed
    answered = raw.request_id
    for _ in range(3):
        length, request_id, response_to, _op = struct.unpack("<iiii", raw._recv_exact(16))
        payload = raw._recv_exact(length - 16)
        (flags,) = struct.unpack("<I", payload[:4])
        reply = bson.decode(payload[5:])
        assert flags & 2  # moreToCome
        assert response_to == answered
        assert reply["topologyVersion"] == version and reply["secondary"] is True
        answered = request_id
    raw.close()


def test_one_member_never_loads_the_replication_package() -> None:
    code = (
        "import sys\n"
        "from pymongo import MongoClient\n"
        "from mongotx_sandbox import ThreadedSandbox\n"
        "with ThreadedSandbox() as uri:\n"
        "    MongoClient(uri).test.c.insert_one({})\n"
        "print(any(m.startswith('mongotx_sandbox.replication') for m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


def test_sandbox_member_status_lists_the_members(rset: ReplSet, rclient: MongoClient) -> None:
    rclient.admin.command({"sandboxMember": 1, "action": "delay", "delaySecs": 2})
    status = rclient.admin.command({"sandboxMember": 0, "action": "status"})
    assert [m["state"] for m in status["members"]] == ["PRIMARY", "SECONDARY", "SECONDARY"]
    assert [m["delaySecs"] for m in status["members"]] == [0, 2, 0]
    assert all(isinstance(m["optime"], Timestamp) for m in status["members"])
    assert status["rolledBack"] == []
    with pytest.raises(OperationFailure) as info:
        rclient.admin.command({"sandboxMember": 7, "action": "pause"})
    assert info.value.code == 2

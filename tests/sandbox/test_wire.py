"""Wire protocol: legacy hello, bad and oversized messages, moreToCome, fuzzing."""

from __future__ import annotations

import random
import socket
import struct
import subprocess
import sys

import bson
import pytest
from pymongo import MongoClient

from .rawclient import RawClient


def _op_query(request_id: int, collection: str, query: dict) -> bytes:
    body = struct.pack("<i", 0) + collection.encode() + b"\x00" + struct.pack("<ii", 0, -1)
    body += bson.encode(query)
    return struct.pack("<iiii", 16 + len(body), request_id, 0, 2004) + body


def test_op_query_hello_gets_op_reply(raw: RawClient) -> None:
    raw.send_raw(_op_query(7, "admin.$cmd", {"isMaster": 1, "helloOk": True}))
    reply = raw.read_reply()
    assert reply["ismaster"] is True and reply["helloOk"] is True
    assert reply["setName"] == "rs0" and reply["logicalSessionTimeoutMinutes"] == 30
    assert "topologyVersion" not in reply and "compression" not in reply
    # After the handshake, OP_MSG works on the same connection.
    assert raw.command({"ping": 1})["ok"] == 1


def test_op_query_other_command_refused(raw: RawClient) -> None:
    raw.send_raw(_op_query(8, "test.$cmd", {"find": "x"}))
    reply = raw.read_reply()
    assert reply["code"] == 352


def test_hello_fields(raw: RawClient, uri: str) -> None:
    reply = raw.command({"hello": 1})
    host = uri.split("//")[1].split("/")[0]
    assert reply["isWritablePrimary"] is True
    assert reply["hosts"] == [host] and reply["me"] == host and reply["primary"] == host
    assert reply["maxWireVersion"] >= 21


def test_unknown_command(raw: RawClient) -> None:
    reply = raw.command({"frobnicate": 1})
    assert reply["code"] == 59 and reply["codeName"] == "CommandNotFound"
    assert "sandbox" in reply["errmsg"]


def test_document_sequence(raw: RawClient) -> None:
    """Kind-1 sections are folded into the body, as pymongo sends inserts."""
    docs = b"".join(bson.encode({"_id": i}) for i in range(3))
    ident = b"documents\x00"
    seq = b"\x01" + struct.pack("<i", 4 + len(ident) + len(docs)) + ident + docs
    body = b"\x00" + bson.encode({"insert": "seq", "$db": "wire"})
    payload = struct.pack("<I", 0) + body + seq
    raw.send_raw(struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload)
    assert raw.read_reply()["n"] == 3
    raw.command({"drop": "seq"}, db="wire")


def test_more_to_come_gets_no_reply(raw: RawClient) -> None:
    raw.send_raw(
        raw.op_msg(
            {"insert": "w0", "documents": [{"_id": 1}], "$db": "wire", "writeConcern": {"w": 0}},
            flags=2,
        )
    )
    # The next reply on the socket must answer the next request, not the w:0 write.
    reply = raw.command({"count": "w0"}, db="wire")
    assert reply["n"] == 1


def test_compressed_message_closes_connection_only(raw: RawClient, uri: str) -> None:
    payload = struct.pack("<iiB", 2013, 10, 1) + b"x" * 10
    raw.send_raw(struct.pack("<iiii", 16 + len(payload), 1, 0, 2012) + payload)
    raw.sock.settimeout(2)
    assert raw.sock.recv(10) == b""  # closed, no reply
    with MongoClient(uri) as c:
        assert c.admin.command("ping")["ok"] == 1


def test_oversized_message_closes_connection_only(raw: RawClient, uri: str) -> None:
    raw.send_raw(struct.pack("<iiii", 48_000_001, 1, 0, 2013))
    raw.sock.settimeout(2)
    assert raw.sock.recv(10) == b""
    with MongoClient(uri) as c:
        assert c.admin.command("ping")["ok"] == 1


def test_fuzz_random_and_truncated_messages(uri: str) -> None:
    """Garbage, truncated and corrupted messages never disturb other clients."""
    rng = random.Random(20261126)
    host, port = uri.split("//")[1].split("/")[0].split(":")
    good = RawClient(uri)
    valid = good.op_msg(
        {"insert": "fuzz", "documents": [{"_id": 1, "a": [1, {"b": 2}]}], "$db": "wire"}
    )
    for i in range(300):
        kind = i % 4
        if kind == 0:
            data = rng.randbytes(rng.randint(1, 200))
        elif kind == 1:
            data = valid[: rng.randint(1, len(valid) - 1)]
        elif kind == 2:
            mutated = bytearray(valid)
            for _ in range(rng.randint(1, 8)):
                mutated[rng.randrange(16, len(mutated))] = rng.randrange(256)
            data = bytes(mutated)
        else:
            fake_len = rng.randint(17, 4096)
            data = struct.pack("<iiii", fake_len, 1, 0, rng.choice([1, 2004, 2012, 2013, 9999]))
            data += rng.randbytes(min(fake_len - 16, rng.randint(0, 64)))
        s = socket.create_connection((host, int(port)), timeout=2)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(0.5)
            try:
                while s.recv(65536):
                    pass
            except (TimeoutError, ConnectionError):
                pass
        finally:
            s.close()
        if i % 50 == 0:
            assert good.command({"ping": 1})["ok"] == 1
    assert good.command({"ping": 1})["ok"] == 1
    good.close()
    with MongoClient(uri) as c:
        assert c.admin.command("ping")["ok"] == 1


def test_import_does_not_load_textual() -> None:
    code = (
        "import sys, mongotx_sandbox\n"
        "from mongotx_sandbox import SandboxServer, ThreadedSandbox\n"
        "from mongotx_sandbox.commands import MODULES, lookup\n"
        "for name in MODULES: lookup(name)  # every handler module\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_replica_set_status_and_config(raw: RawClient, uri: str) -> None:
    """`rs.status()` and `rs.conf()` in a shell show one primary."""
    host = uri.split("//")[1].split("/")[0]
    status = raw.command({"replSetGetStatus": 1})
    assert status["set"] == "rs0" and status["myState"] == 1
    assert [(m["name"], m["stateStr"]) for m in status["members"]] == [(host, "PRIMARY")]
    config = raw.command({"replSetGetConfig": 1})["config"]
    assert config["_id"] == "rs0" and [m["host"] for m in config["members"]] == [host]


def test_credentials_fail_clearly(uri: str) -> None:
    from pymongo.errors import OperationFailure

    with_user = uri.replace("mongodb://", "mongodb://someone:secret@")
    with MongoClient(with_user, serverSelectionTimeoutMS=3000) as c:
        with pytest.raises(OperationFailure) as info:
            c.admin.command("ping")
    assert info.value.code == 18 and "no users" in str(info.value)
    assert "secret" not in str(info.value)

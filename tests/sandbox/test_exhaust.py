"""Exhaust cursors: a getMore sent with exhaustAllowed streams every remaining batch, each
reply flagged moreToCome but the last, as mongod does (getmore_cmd.cpp); a find does not."""

from __future__ import annotations

import struct
from typing import Any

import bson
from bson.int64 import Int64
from pymongo import MongoClient
from pymongo.cursor import CursorType

from .rawclient import RawClient, new_lsid

EXHAUST_ALLOWED, MORE_TO_COME = 1 << 16, 2


def _frame(raw: RawClient) -> tuple[int, int, int, dict[str, Any]]:
    """The next reply: (requestId, responseTo, flags, document)."""
    length, request_id, response_to, _op = struct.unpack("<iiii", raw._recv_exact(16))
    payload = raw._recv_exact(length - 16)
    (flags,) = struct.unpack_from("<I", payload)
    return request_id, response_to, flags, bson.decode(payload[5:])


def test_pymongo_exhaust_cursor_reads_everything(client: MongoClient) -> None:
    coll = client.test.exhaust
    coll.drop()
    coll.insert_many([{"_id": i} for i in range(25)])
    found = list(coll.find(cursor_type=CursorType.EXHAUST, batch_size=4).sort("_id", 1))
    assert [d["_id"] for d in found] == list(range(25))


def test_a_get_more_with_exhaust_allowed_streams_its_batches(raw: RawClient) -> None:
    raw.command({"drop": "exhaust_raw"}, db="test")
    raw.command({"insert": "exhaust_raw", "documents": [{"_id": i} for i in range(7)]}, db="test")
    lsid = new_lsid()
    first = raw.command({"find": "exhaust_raw", "batchSize": 2, "lsid": lsid}, db="test")
    cid = first["cursor"]["id"]
    get_more = {"getMore": Int64(cid), "collection": "exhaust_raw", "batchSize": 2}
    raw.send_raw(raw.op_msg({**get_more, "lsid": lsid, "$db": "test"}, flags=EXHAUST_ALLOWED))
    answered, seen, flags = raw.request_id, [], MORE_TO_COME
    while flags & MORE_TO_COME:
        request_id, response_to, flags, reply = _frame(raw)
        assert response_to == answered  # each reply answers the one before it
        answered = request_id
        seen += [d["_id"] for d in reply["cursor"]["nextBatch"]]
        assert bool(flags & MORE_TO_COME) == (reply["cursor"]["id"] != 0)
    assert seen == [2, 3, 4, 5, 6]
    assert raw.command({"ping": 1})["ok"] == 1  # the connection is in step again


def test_a_find_with_exhaust_allowed_answers_once(raw: RawClient) -> None:
    raw.command({"drop": "exhaust_find"}, db="test")
    raw.command({"insert": "exhaust_find", "documents": [{"_id": i} for i in range(5)]}, db="test")
    find = {"find": "exhaust_find", "batchSize": 2, "$db": "test"}
    raw.send_raw(raw.op_msg(find, flags=EXHAUST_ALLOWED))
    _, response_to, flags, reply = _frame(raw)
    assert response_to == raw.request_id and flags == 0
    assert len(reply["cursor"]["firstBatch"]) == 2 and reply["cursor"]["id"] != 0
    assert raw.command({"ping": 1})["ok"] == 1

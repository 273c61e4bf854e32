"""Bad bytes in a well-framed message: mongod answers invalid BSON with an error (22, or 15
for nesting deeper than 200) and keeps the connection; a wrong CRC-32C checksum closes it."""

from __future__ import annotations

import struct

import bson
import pytest

from mongotx_sandbox.wire import crc32c

from .rawclient import RawClient

OP_MSG, CHECKSUM, MORE_TO_COME = 2013, 1, 2


def _message(raw: RawClient, payload: bytes) -> bytes:
    raw.request_id += 1
    return struct.pack("<iiii", 16 + len(payload), raw.request_id, 0, OP_MSG) + payload


def _body(doc: bytes, flags: int = 0) -> bytes:
    return struct.pack("<I", flags) + b"\x00" + doc


def _doc(elements: bytes) -> bytes:
    return struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"


def _ping_with(element: bytes) -> bytes:
    return _doc(
        b"\x10ping\x00" + struct.pack("<i", 1) + b"\x02$db\x00\x06\x00\x00\x00admin\x00" + element
    )


def _nested(levels: int) -> bytes:
    doc = _doc(b"")
    for _ in range(levels):
        doc = _doc(b"\x03a\x00" + doc)
    return doc


def _assert_open(raw: RawClient) -> None:
    assert raw.command({"ping": 1})["ok"] == 1


def test_a_bool_byte_of_two_is_invalid_bson(raw: RawClient) -> None:
    raw.send_raw(_message(raw, _body(_ping_with(b"\x08flag\x00\x02"))))
    response_to, reply = raw.read_message()
    assert response_to == raw.request_id
    assert reply["code"] == 22 and reply["codeName"] == "InvalidBSON"
    assert reply["errmsg"] == (
        "BSON bool is neither false nor true in element with field name 'flag' in object "
        "with unknown _id"
    )
    _assert_open(raw)


def test_nesting_deeper_than_200_levels_is_an_overflow(raw: RawClient) -> None:
    for levels in (201, 1000):
        nested = _nested(levels)[4:-1]  # its elements: "a" holding the rest
        raw.send_raw(_message(raw, _body(_ping_with(nested))))
        reply = raw.read_reply()
        assert reply["code"] == 15 and reply["codeName"] == "Overflow", reply
        assert reply["errmsg"].startswith("BSONObj exceeds maximum nested object depth")
        _assert_open(raw)
    raw.send_raw(_message(raw, _body(_ping_with(_nested(200)[4:-1]))))
    assert raw.read_reply()["ok"] == 1  # 200 levels are allowed


def test_invalid_utf8_runs_like_mongod(raw: RawClient) -> None:
    raw.command({"drop": "utf8"}, db="wire")
    doc = _doc(b"\x10_id\x00" + struct.pack("<i", 1) + b"\x02s\x00\x03\x00\x00\x00\xff\xfe\x00")
    insert = _doc(
        b"\x02insert\x00\x05\x00\x00\x00utf8\x00"
        + b"\x04documents\x00"
        + _doc(b"\x030\x00" + doc)
        + b"\x02$db\x00\x05\x00\x00\x00wire\x00"
    )
    raw.send_raw(_message(raw, _body(insert)))
    assert raw.read_reply()["n"] == 1
    found = raw.command({"find": "utf8"}, db="wire")["cursor"]["firstBatch"]
    assert found == [{"_id": 1, "s": "\ufffd\ufffd"}]


def test_an_invalid_body_in_a_more_to_come_message_is_not_answered(raw: RawClient) -> None:
    raw.send_raw(_message(raw, _body(_ping_with(b"\x08flag\x00\x02"), flags=MORE_TO_COME)))
    raw.send_raw(raw.op_msg({"ping": 1, "$db": "admin"}))
    response_to, reply = raw.read_message()
    assert response_to == raw.request_id and reply["ok"] == 1


def test_section_errors_are_answered(raw: RawClient) -> None:
    ping = bson.encode({"ping": 1, "$db": "admin"})
    raw.send_raw(_message(raw, struct.pack("<I", 0) + b"\x07" + ping))
    assert raw.read_reply()["code"] == 40432  # unknown section kind
    raw.send_raw(_message(raw, struct.pack("<I", 0) + b"\x00" + ping + b"\x00" + ping))
    assert raw.read_reply()["code"] == 40430  # two bodies
    _assert_open(raw)


def _with_checksum(raw: RawClient, doc: dict, wrong: bool) -> bytes:
    raw.request_id += 1
    payload = _body(bson.encode(doc), flags=CHECKSUM)
    header = struct.pack("<iiii", 16 + len(payload) + 4, raw.request_id, 0, OP_MSG)
    checksum = crc32c(header + payload) ^ (1 if wrong else 0)
    return header + payload + struct.pack("<I", checksum)


def test_a_correct_checksum_is_accepted(raw: RawClient) -> None:
    raw.send_raw(_with_checksum(raw, {"ping": 1, "$db": "admin"}, wrong=False))
    assert raw.read_reply()["ok"] == 1


def test_a_wrong_checksum_closes_the_connection(raw: RawClient) -> None:
    raw.send_raw(_with_checksum(raw, {"ping": 1, "$db": "admin"}, wrong=True))
    with pytest.raises(ConnectionError):
        raw.read_reply()


def test_crc32c_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value of CRC-32C

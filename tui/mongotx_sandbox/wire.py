"""MongoDB wire protocol: parse requests, build replies (OP_MSG, OP_QUERY/OP_REPLY).

Rules from ../shared/docs/mongodb-transactions.md §1 (spec: message/OP_MSG.md).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions, DatetimeConversion

from .errors import ProtocolError

OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013

HEADER = struct.Struct("<iiii")
MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE = 48_000_000
MAX_WRITE_BATCH_SIZE = 100_000

CHECKSUM_PRESENT = 1
MORE_TO_COME = 1 << 1
_KNOWN_REQUIRED_FLAGS = CHECKSUM_PRESENT | MORE_TO_COME

# Keep every BSON type as it came (Binary UUIDs stay Binary, far dates stay DatetimeMS).
CODEC = CodecOptions(
    document_class=dict,
    tz_aware=False,
    uuid_representation=UuidRepresentation.UNSPECIFIED,
    datetime_conversion=DatetimeConversion.DATETIME_AUTO,
)


@dataclass
class Request:
    """One decoded client message."""

    request_id: int
    op_code: int
    body: dict[str, Any]
    flags: int = 0
    legacy_collection: str = ""

    @property
    def more_to_come(self) -> bool:
        return self.op_code == OP_MSG and bool(self.flags & MORE_TO_COME)


def decode_document(data: bytes | memoryview) -> dict[str, Any]:
    try:
        return bson.decode(bytes(data), codec_options=CODEC)
    except Exception as exc:  # the bson module raises several types for bad input
        raise ProtocolError(f"invalid BSON: {exc}") from exc


def encode_document(doc: dict[str, Any]) -> bytes:
    return bson.encode(doc, codec_options=CODEC)


def _cstring(buf: bytes, pos: int) -> tuple[str, int]:
    end = buf.find(b"\x00", pos)
    if end < 0:
        raise ProtocolError("unterminated cstring")
    try:
        return buf[pos:end].decode("utf-8"), end + 1
    except UnicodeDecodeError as exc:
        raise ProtocolError("cstring is not UTF-8") from exc


def _bson_at(buf: bytes, pos: int, limit: int) -> tuple[dict[str, Any], int]:
    if pos + 5 > limit:
        raise ProtocolError("truncated BSON document")
    (size,) = struct.unpack_from("<i", buf, pos)
    if size < 5 or pos + size > limit:
        raise ProtocolError("BSON document length out of bounds")
    if size > MAX_BSON_OBJECT_SIZE + 16 * 1024:
        raise ProtocolError("BSON document exceeds maxBsonObjectSize")
    return decode_document(buf[pos : pos + size]), pos + size


def parse_op_msg(request_id: int, payload: bytes) -> Request:
    """Parse an OP_MSG body (everything after the header)."""
    if len(payload) < 5:
        raise ProtocolError("OP_MSG too short")
    (flags,) = struct.unpack_from("<I", payload, 0)
    if flags & 0xFFFF & ~_KNOWN_REQUIRED_FLAGS:
        raise ProtocolError(f"unsupported OP_MSG flag bits {flags:#x}")
    end = len(payload) - (4 if flags & CHECKSUM_PRESENT else 0)
    pos = 4
    body: dict[str, Any] | None = None
    sequences: dict[str, list[dict[str, Any]]] = {}
    while pos < end:
        kind = payload[pos]
        pos += 1
        if kind == 0:
            if body is not None:
                raise ProtocolError("OP_MSG has more than one kind-0 section")
            body, pos = _bson_at(payload, pos, end)
        elif kind == 1:
            if pos + 4 > end:
                raise ProtocolError("truncated document sequence")
            (size,) = struct.unpack_from("<i", payload, pos)
            seq_end = pos + size
            if size < 5 or seq_end > end:
                raise ProtocolError("document sequence length out of bounds")
            ident, p = _cstring(payload, pos + 4)
            if p > seq_end:
                raise ProtocolError("document sequence identifier overruns its section")
            if ident in sequences:
                raise ProtocolError(f"duplicate document sequence {ident!r}")
            docs: list[dict[str, Any]] = []
            while p < seq_end:
                doc, p = _bson_at(payload, p, seq_end)
                docs.append(doc)
            sequences[ident] = docs
            pos = seq_end
        else:
            raise ProtocolError(f"unknown OP_MSG section kind {kind}")
    if body is None:
        raise ProtocolError("OP_MSG without a kind-0 section")
    for ident, docs in sequences.items():
        if ident in body:
            raise ProtocolError(f"field {ident!r} given both in the body and as a sequence")
        body[ident] = docs
    return Request(request_id, OP_MSG, body, flags=flags)


def parse_op_query(request_id: int, payload: bytes) -> Request:
    """Parse a legacy OP_QUERY (only used for the first hello of older drivers)."""
    if len(payload) < 4:
        raise ProtocolError("OP_QUERY too short")
    (flags,) = struct.unpack_from("<i", payload, 0)
    collection, pos = _cstring(payload, 4)
    pos += 8  # numberToSkip, numberToReturn
    query, _ = _bson_at(payload, pos, len(payload))
    # Legacy commands may wrap the command as {$query: {...}, $readPreference: ...}.
    if "$query" in query and isinstance(query["$query"], dict):
        query = dict(query["$query"])
    return Request(request_id, OP_QUERY, query, flags=flags, legacy_collection=collection)


def parse_message(header: tuple[int, int, int, int], payload: bytes) -> Request:
    _length, request_id, _response_to, op_code = header
    if op_code == OP_MSG:
        return parse_op_msg(request_id, payload)
    if op_code == OP_QUERY:
        return parse_op_query(request_id, payload)
    if op_code == OP_COMPRESSED:
        # We never advertise compression (§1.4), so a compressed message is a protocol error.
        raise ProtocolError("OP_COMPRESSED is not supported: the sandbox offers no compressors")
    raise ProtocolError(f"unsupported opCode {op_code}")


_REPLY_ID = 0


def _next_id() -> int:
    global _REPLY_ID
    _REPLY_ID = (_REPLY_ID + 1) & 0x7FFFFFFF
    return _REPLY_ID


def build_op_msg(response_to: int, doc: dict[str, Any]) -> bytes:
    """One kind-0 section, flags 0, no checksum: the only reply shape pymongo accepts."""
    body = encode_document(doc)
    length = HEADER.size + 4 + 1 + len(body)
    return b"".join(
        (HEADER.pack(length, _next_id(), response_to, OP_MSG), b"\x00\x00\x00\x00\x00", body)
    )


def build_op_reply(response_to: int, doc: dict[str, Any]) -> bytes:
    body = encode_document(doc)
    length = HEADER.size + 20 + len(body)
    return b"".join(
        (
            HEADER.pack(length, _next_id(), response_to, OP_REPLY),
            struct.pack("<iqii", 0, 0, 0, 1),
            body,
        )
    )

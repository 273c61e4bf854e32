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

from . import bsoncheck
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
EXHAUST_ALLOWED = 1 << 16
_KNOWN_REQUIRED_FLAGS = CHECKSUM_PRESENT | MORE_TO_COME

# Keep every BSON type as it came (Binary UUIDs stay Binary, far dates stay DatetimeMS).
# mongod does not check that strings are UTF-8 (bson_validate.cpp only checks their length
# and terminator), so a request with invalid UTF-8 runs; Python strings can't hold those
# bytes, so the sandbox reads each as U+FFFD instead of refusing the request.
CODEC = CodecOptions(
    document_class=dict,
    tz_aware=False,
    uuid_representation=UuidRepresentation.UNSPECIFIED,
    datetime_conversion=DatetimeConversion.DATETIME_AUTO,
    unicode_decode_error_handler="replace",
)
# CRC-32C (Castagnoli, reflected), the checksum of an OP_MSG with checksumPresent.
_CRC32C = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ 0x82F63B78 if _crc & 1 else _crc >> 1
    _CRC32C.append(_crc)


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


def crc32c(data: bytes) -> int:
    """CRC-32C in pure Python: slow, but drivers send no checksums (pymongo never does)."""
    crc = 0xFFFFFFFF
    table = _CRC32C
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def decode_document(data: bytes | memoryview) -> dict[str, Any]:
    """One document of a request. An invalid one (a bool byte of 2, nesting deeper than 200
    levels, bad lengths) raises ProtocolError with mongod's code and words, to be answered."""
    raw = bytes(data)
    try:
        doc = bson.decode(raw, codec_options=CODEC)
    except Exception as exc:  # the bson module raises several types for bad input
        bsoncheck.check(raw)
        raise ProtocolError("invalid BSON", code=22) from exc
    if bsoncheck.may_nest_too_deep(raw) and bsoncheck.nests_too_deep(doc):
        bsoncheck.check(raw)  # raises Overflow with mongod's words
    return doc


def encode_document(doc: dict[str, Any]) -> bytes:
    return bson.encode(doc, codec_options=CODEC)


def _cstring(buf: bytes, pos: int) -> tuple[str, int]:
    end = buf.find(b"\x00", pos)
    if end < 0:
        raise ProtocolError("unterminated cstring")
    return buf[pos:end].decode("utf-8", "replace"), end + 1  # mongod checks no UTF-8


def _bson_at(buf: bytes, pos: int, limit: int) -> tuple[dict[str, Any], int]:
    # Validated<BSONObj>: the document is checked against what is left of its section
    # [srv:rpc/object_check.h; bson/bson_validate.cpp].
    if pos + 5 > limit:
        raise ProtocolError("BSON data has to be at least 5 bytes", code=22)
    (size,) = struct.unpack_from("<i", buf, pos)
    if size < 5:
        raise ProtocolError("BSON data has to be at least 5 bytes", code=22)
    if pos + size > limit:
        raise ProtocolError("Incorrect BSON length", code=22)
    if size > MAX_BSON_OBJECT_SIZE + 16 * 1024:
        raise ProtocolError(
            f"BSONObj size: {size} (0x{size:X}) is invalid. "
            "Size must be between 0 and 16793600(16MB)",
            code=10334,
        )
    return decode_document(buf[pos : pos + size]), pos + size


def parse_op_msg(request_id: int, payload: bytes) -> Request:
    """Parse an OP_MSG body (everything after the header)."""
    if len(payload) < 5:
        raise ProtocolError("OP_MSG too short")
    (flags,) = struct.unpack_from("<I", payload, 0)
    if flags & 0xFFFF & ~_KNOWN_REQUIRED_FLAGS:
        raise ProtocolError(f"unsupported OP_MSG flag bits {flags:#x}")  # 223: closes
    try:
        return _op_msg_sections(request_id, payload, flags)
    except ProtocolError as exc:
        exc.more_to_come = bool(flags & MORE_TO_COME)
        raise


def _op_msg_sections(request_id: int, payload: bytes, flags: int) -> Request:
    """The sections of an OP_MSG; their errors are answered with OpMsg::parse's codes
    [srv:rpc/op_msg.cpp OpMsg::parse]."""
    end = len(payload) - (4 if flags & CHECKSUM_PRESENT else 0)
    pos = 4
    body: dict[str, Any] | None = None
    sequences: dict[str, list[dict[str, Any]]] = {}
    while pos < end:
        kind = payload[pos]
        pos += 1
        if kind == 0:
            if body is not None:
                raise ProtocolError("Multiple body sections in message", code=40430)
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
                raise ProtocolError(f"Duplicate document sequence: {ident}", code=40431)
            if len(sequences) >= 2:
                # TooManyDocumentSequences: a connection-fatal parse error, not answered.
                raise ProtocolError("Too many document sequences in OP_MSG")
            docs: list[dict[str, Any]] = []
            while p < seq_end:
                doc, p = _bson_at(payload, p, seq_end)
                docs.append(doc)
            sequences[ident] = docs
            pos = seq_end
        else:
            raise ProtocolError(f"Unknown section kind {kind}", code=40432)
    if body is None:
        raise ProtocolError("OP_MSG messages must have a body", code=40587)
    for ident, docs in sequences.items():
        if ident in body:
            raise ProtocolError(
                f"Duplicate field between body and document sequence {ident}", code=40433
            )
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
        if len(payload) >= 8 and payload[0] & CHECKSUM_PRESENT:
            # A wrong checksum is ChecksumMismatch (288), a connection-fatal parse error:
            # the connection closes unanswered [srv:rpc/op_msg.cpp OpMsg::parse].
            (expected,) = struct.unpack_from("<I", payload, len(payload) - 4)
            if crc32c(HEADER.pack(*header) + payload[:-4]) != expected:
                raise ProtocolError("OP_MSG checksum does not match contents")
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


def build_op_msg(response_to: int, doc: dict[str, Any], flags: int = 0) -> bytes:
    """One kind-0 section, no checksum: the only reply shape pymongo accepts. Flags 0, or
    moreToCome for an exhaust stream's replies but its last."""
    body = encode_document(doc)
    length = HEADER.size + 4 + 1 + len(body)
    return b"".join(
        (
            HEADER.pack(length, _next_id(), response_to, OP_MSG),
            struct.pack("<I", flags),
            b"\x00",
            body,
        )
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

"""Wire frames: the 16-byte header, a cheap peek at an OP_MSG's command name, and the
decoding and encoding the proxy needs for observation and for its few rewrites.

The opcodes and layouts are the server's (mongo/src/mongo/rpc/op_msg.h, message.h): OP_MSG
2013 (flagBits, then sections: kind 0 one body document, kind 1 a size, an identifier and
documents, then an optional CRC-32C), OP_QUERY 2004 and OP_REPLY 1 (legacy, still used for
the first isMaster of a handshake), OP_COMPRESSED 2012 (never negotiated through the proxy).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import bson
from bson.codec_options import CodecOptions

OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013

# OP_MSG flagBits (op_msg.h: kChecksumPresent, kMoreToCome, kExhaustSupported).
CHECKSUM_PRESENT = 1 << 0
MORE_TO_COME = 1 << 1
EXHAUST_ALLOWED = 1 << 16

HEADER = struct.Struct("<iiii")
# The largest message a server accepts (hello's maxMessageSizeBytes, 48,000,000): a length
# outside 16..this is not a wire message, and the connection is closed.
MAX_MESSAGE = 48_000_000

CODEC = CodecOptions(tz_aware=True)


class FrameError(Exception):
    """Bytes that are not a wire message of a kind the proxy can read."""


@dataclass
class Header:
    length: int
    request_id: int
    response_to: int
    op_code: int


def header(frame: bytes | bytearray | memoryview) -> Header:
    return Header(*HEADER.unpack_from(frame, 0))


def frame_length(buf: bytes | bytearray, start: int = 0) -> int:
    """The length a frame starting at `start` announces (its first 4 bytes)."""
    return int.from_bytes(buf[start : start + 4], "little", signed=True)


def msg_flags(frame: bytes | bytearray) -> int:
    return int.from_bytes(frame[16:20], "little") if len(frame) >= 20 else 0


def peek_command(frame: bytes | bytearray) -> str:
    """The command name of an OP_MSG whose first section is its body, without decoding it
    (the body's first element name); "" when the frame is not laid out that way."""
    if len(frame) < 27 or frame[20] != 0:
        return ""
    end = frame.find(b"\x00", 26)
    if end < 0:
        return ""
    return bytes(frame[26:end]).decode("utf-8", "replace")


@dataclass
class Msg:
    """A decoded OP_MSG: its flags, body (document sequences folded in as lists)."""

    flags: int
    body: dict[str, Any]


def decode_msg(frame: bytes | bytearray) -> Msg:
    """Decode an OP_MSG (raises FrameError on anything malformed)."""
    try:
        flags = msg_flags(frame)
        end = len(frame) - (4 if flags & CHECKSUM_PRESENT else 0)
        pos = 20
        body: dict[str, Any] | None = None
        sequences: dict[str, list[Any]] = {}
        while pos < end:
            kind = frame[pos]
            pos += 1
            size = int.from_bytes(frame[pos : pos + 4], "little")
            if kind == 0:
                body = bson.decode(bytes(frame[pos : pos + size]), CODEC)
            elif kind == 1:
                section = frame[pos : pos + size]
                nul = section.index(0, 4)
                name = bytes(section[4:nul]).decode()
                sequences[name] = bson.decode_all(bytes(section[nul + 1 :]), CODEC)
            else:
                raise FrameError(f"unknown OP_MSG section kind {kind}")
            if size < 4:
                raise FrameError("OP_MSG section too short")
            pos += size
        if body is None:
            raise FrameError("OP_MSG without a body")
        body.update(sequences)
        return Msg(flags, body)
    except FrameError:
        raise
    except Exception as exc:  # bson's and slicing's errors: the bytes are not an OP_MSG
        raise FrameError(type(exc).__name__) from None


def encode_msg(request_id: int, response_to: int, flags: int, body: dict[str, Any]) -> bytes:
    """An OP_MSG with one body section (no checksum: the rewrite drops it)."""
    payload = struct.pack("<I", flags & ~CHECKSUM_PRESENT) + b"\x00" + bson.encode(body)
    return HEADER.pack(16 + len(payload), request_id, response_to, OP_MSG) + payload


def rewrite_msg_body(frame: bytes | bytearray, body: dict[str, Any]) -> bytes:
    """The frame with its body replaced by `body` and its document sequences kept as they
    were (a checksum, if any, is dropped: it would no longer match)."""
    h = header(frame)
    flags = msg_flags(frame)
    end = len(frame) - (4 if flags & CHECKSUM_PRESENT else 0)
    pos = 20
    sections = [b"\x00" + bson.encode(body)]
    while pos < end:
        kind = frame[pos]
        size = int.from_bytes(frame[pos + 1 : pos + 5], "little")
        if kind == 1:
            sections.append(bytes(frame[pos : pos + 1 + size]))
        pos += 1 + size
    payload = struct.pack("<I", flags & ~CHECKSUM_PRESENT) + b"".join(sections)
    return HEADER.pack(16 + len(payload), h.request_id, h.response_to, OP_MSG) + payload


@dataclass
class Query:
    """A decoded legacy OP_QUERY (what a handshake's first isMaster may still be)."""

    flags: int
    collection: str
    skip: int
    limit: int
    query: dict[str, Any]
    rest: bytes  # the optional returnFieldsSelector, as it came


def decode_query(frame: bytes | bytearray) -> Query:
    try:
        flags = int.from_bytes(frame[16:20], "little")
        nul = frame.index(0, 20)
        collection = bytes(frame[20:nul]).decode()
        skip, limit = struct.unpack_from("<ii", frame, nul + 1)
        start = nul + 9
        size = int.from_bytes(frame[start : start + 4], "little")
        query = bson.decode(bytes(frame[start : start + size]), CODEC)
        return Query(flags, collection, skip, limit, query, bytes(frame[start + size :]))
    except Exception as exc:
        raise FrameError(type(exc).__name__) from None


def encode_query(h: Header, q: Query) -> bytes:
    payload = (
        struct.pack("<I", q.flags)
        + q.collection.encode()
        + b"\x00"
        + struct.pack("<ii", q.skip, q.limit)
        + bson.encode(q.query)
        + q.rest
    )
    return HEADER.pack(16 + len(payload), h.request_id, h.response_to, OP_QUERY) + payload


@dataclass
class Reply:
    """A decoded OP_REPLY (the answer to an OP_QUERY)."""

    flags: int
    cursor_id: int
    starting_from: int
    documents: list[dict[str, Any]]


def decode_reply(frame: bytes | bytearray) -> Reply:
    try:
        flags, cursor_id, start, _count = struct.unpack_from("<iqii", frame, 16)
        docs = bson.decode_all(bytes(frame[36:]), CODEC)
        return Reply(flags, cursor_id, start, docs)
    except Exception as exc:
        raise FrameError(type(exc).__name__) from None


def encode_reply(h: Header, r: Reply) -> bytes:
    docs = b"".join(bson.encode(d) for d in r.documents)
    payload = struct.pack("<iqii", r.flags, r.cursor_id, r.starting_from, len(r.documents))
    payload += docs
    return HEADER.pack(16 + len(payload), h.request_id, h.response_to, OP_REPLY) + payload

"""A minimal wire client for tests that must send exactly what they choose (lsid, txnNumber)."""

from __future__ import annotations

import socket
import struct
import uuid
from typing import Any
from urllib.parse import urlparse

import bson
from bson.binary import Binary
from bson.codec_options import CodecOptions, DatetimeConversion

_HEADER = struct.Struct("<iiii")
# Dates outside Python's range (DatetimeMS) decode as they are.
_CODEC = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_AUTO)


class RawClient:
    def __init__(self, uri: str) -> None:
        parsed = urlparse(uri)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=10)
        self.request_id = 0

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed by server")
            buf += chunk
        return buf

    def read_reply(self) -> dict[str, Any]:
        return self.read_message()[1]

    def read_message(self) -> tuple[int, dict[str, Any]]:
        """The next reply: (responseTo, document)."""
        length, _rid, response_to, op = _HEADER.unpack(self._recv_exact(16))
        payload = self._recv_exact(length - 16)
        if op == 2013:
            return response_to, bson.decode(payload[5:], codec_options=_CODEC)
        if op == 1:
            return response_to, bson.decode(payload[20:], codec_options=_CODEC)
        raise AssertionError(f"unexpected opCode {op}")

    def op_msg(self, body: dict[str, Any], flags: int = 0) -> bytes:
        self.request_id += 1
        doc = bson.encode(body)
        payload = struct.pack("<I", flags) + b"\x00" + doc
        return _HEADER.pack(16 + len(payload), self.request_id, 0, 2013) + payload

    def command(self, body: dict[str, Any], db: str = "admin") -> dict[str, Any]:
        body = {**body, "$db": body.get("$db", db)}
        self.send_raw(self.op_msg(body))
        return self.read_reply()


def new_lsid() -> dict[str, Any]:
    return {"id": Binary(uuid.uuid4().bytes, 4)}

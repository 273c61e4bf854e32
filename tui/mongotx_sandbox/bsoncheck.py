"""Why a BSON document is invalid, in mongod's words.

The bson library decodes requests; it is asked here only when decoding fails or when a
document may nest deeper than mongod allows, so that the client gets mongod's error reply
(InvalidBSON 22, Overflow 15) instead of a closed connection
[srv:bson/bson_validate.cpp ValidateBuffer; rpc/op_msg.cpp OpMsg::parse reads each document
as Validated<BSONObj>; a parse error outside ConnectionFatalMessageParseError is answered].
"""

from __future__ import annotations

import struct

from .errors import ProtocolError

# BSONDepth::kDefaultMaxAllowableDepth: a document may hold 200 levels of nested objects.
MAX_DEPTH = 200
_INVALID, _OVERFLOW = 22, 15
_FIXED = {0x01: 8, 0x06: 0, 0x07: 12, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16}
_STRINGS = frozenset({0x02, 0x0D, 0x0E})
_INT32 = struct.Struct("<i")


def may_nest_too_deep(data: bytes) -> bool:
    """Each nesting level takes one object or array type byte: without 200 of them, the
    document can't be too deep (a cheap test before a full walk)."""
    return data.count(3) + data.count(4) > MAX_DEPTH


def nests_too_deep(doc: dict) -> bool:
    """Whether a decoded document holds more than MAX_DEPTH levels of objects and arrays
    (a walk over its containers only, cheaper than a walk over its bytes)."""
    stack: list[tuple[object, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:  # type: ignore[attr-defined]
            if isinstance(child, dict | list):
                if depth + 1 > MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def check(data: bytes) -> None:
    """Raise ProtocolError(code, mongod's message) if `data` is not a valid BSON document."""
    _Walk(data).document()


class _Walk:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.names: list[str] = []  # the fields of the enclosing objects
        self.current = "?"
        self.id_text = "unknown _id"

    def fail(self, code: int, reason: str) -> ProtocolError:
        path = ".".join([*self.names, self.current])
        return ProtocolError(
            f"{reason} in element with field name '{path}' in object with {self.id_text}",
            code=code,
        )

    def document(self) -> None:
        data = self.data
        if len(data) < 5 or _INT32.unpack_from(data)[0] < 5:
            raise self.fail(_INVALID, "BSON data has to be at least 5 bytes")
        size = _INT32.unpack_from(data)[0]
        if size > len(data):
            raise self.fail(_INVALID, "Incorrect BSON length")
        if data[size - 1] != 0:
            raise self.fail(_INVALID, "BSON object not terminated with EOO")
        self.elements(4, size, 0)

    def elements(self, pos: int, end: int, depth: int) -> None:
        data = self.data
        while True:
            if pos >= end:
                raise self.fail(_INVALID, "BSON size is larger than buffer size")
            kind = data[pos]
            if kind == 0:
                if pos + 1 != end:
                    raise self.fail(_INVALID, "incorrect BSON length")
                return
            name_end = data.find(b"\x00", pos + 1, end)
            if name_end < 0:
                raise self.fail(_INVALID, "BSON size is larger than buffer size")
            self.current = data[pos + 1 : name_end].decode("utf-8", "replace")
            start, pos = pos, self.value(kind, name_end + 1, end, depth)
            if depth == 0 and self.current == "_id":
                self.id_text = f"_id: {_shown(data[start:pos])}"

    def skip(self, pos: int, n: int, end: int) -> int:
        pos += n
        if pos >= end:  # an EOO byte must still follow
            raise self.fail(_INVALID, "BSON size is larger than buffer size")
        return pos

    def int32(self, pos: int, end: int) -> int:
        self.skip(pos, 4, end)
        return _INT32.unpack_from(self.data, pos)[0]

    def value(self, kind: int, pos: int, end: int, depth: int) -> int:
        data = self.data
        if kind in _FIXED:
            return self.skip(pos, _FIXED[kind], end)
        if kind in _STRINGS:
            return self.string(pos, end)
        if kind in (0x03, 0x04):
            return self.nested(pos, end, depth)
        if kind == 0x05:
            return self.skip(pos, 5 + max(self.int32(pos, end), 0), end)
        if kind == 0x08:
            if data[self.skip(pos, 0, end)] not in (0, 1):
                raise self.fail(_INVALID, "BSON bool is neither false nor true")
            return self.skip(pos, 1, end)
        if kind == 0x0B:
            for _ in range(2):
                cstring_end = data.find(b"\x00", pos, end)
                if cstring_end < 0:
                    raise self.fail(_INVALID, "BSON size is larger than buffer size")
                pos = self.skip(cstring_end, 1, end)
            return pos
        if kind == 0x0C:
            return self.skip(self.string(pos, end), 12, end)
        if kind == 0x0F:
            total = self.int32(pos, end)
            scope = self.string(pos + 4, end)
            self.nested(scope, end, depth)
            if pos + total != _INT32.unpack_from(data, scope)[0] + scope:
                raise self.fail(_INVALID, "incorrect BSON length")
            return pos + total
        if kind in (0x7F, 0xFF):
            return self.skip(pos, 0, end)
        raise self.fail(_INVALID, f"Unrecognized BSON type {kind}")

    def string(self, pos: int, end: int) -> int:
        n = self.int32(pos, end)
        if n <= 0:
            raise self.fail(_INVALID, "Not null terminated string")
        after = self.skip(pos, 4 + n, end)
        if self.data[after - 1] != 0:
            raise self.fail(_INVALID, "Not null terminated string")
        return after

    def nested(self, pos: int, end: int, depth: int) -> int:
        if depth + 1 > MAX_DEPTH:
            raise self.fail(_OVERFLOW, "BSONObj exceeds maximum nested object depth")
        size = self.int32(pos, end)
        if size < 5:
            raise self.fail(_INVALID, "Nested BSON object has to be at least 5 bytes")
        if pos + size >= end:
            raise self.fail(_INVALID, "BSON size is larger than buffer size")
        self.names.append(self.current)
        self.elements(pos + 4, pos + size, depth + 1)
        self.current = self.names.pop()
        return pos + size


def _shown(element: bytes) -> str:
    """The root _id as mongod prints a BSONElement's value, for the usual _id types."""
    kind, value = element[0], element[element.index(0, 1) + 1 :]
    if kind == 0x10:
        return str(_INT32.unpack(value)[0])
    if kind == 0x12:
        return str(struct.unpack("<q", value)[0])
    if kind == 0x02:
        return '"' + value[4:-1].decode("utf-8", "replace") + '"'
    if kind == 0x07:
        return f"ObjectId('{value.hex()}')"
    return "?"

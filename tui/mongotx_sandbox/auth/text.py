"""A command as mongod's BSONObj::toString writes it, for the 13 Unauthorized message
"not authorized on DB to execute command { … }" [srv:db/commands.cpp
CommandInvocation::checkAuthorization]: the body with its sensitive fields set to "xxx"
(Command::snipForLogging; createUser and updateUser name `pwd`)."""

from __future__ import annotations

import datetime
import math
import uuid
from typing import Any

from bson.binary import Binary
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.timestamp import Timestamp

SENSITIVE_FIELDS = frozenset({"pwd"})
# OP_MSG document sequences (kind-1 sections) are not part of the body mongod prints; the
# sandbox's wire layer merges them into the body after its own fields, so after `$db`.
_SEQUENCES = frozenset({"documents", "updates", "deletes", "ops", "nsInfo"})


def command_text(body: dict[str, Any]) -> str:
    shown: dict[str, Any] = {}
    after_db = False
    for key, value in body.items():
        if after_db and key in _SEQUENCES and isinstance(value, list):
            continue
        shown[key] = "xxx" if key in SENSITIVE_FIELDS else value
        after_db = after_db or key == "$db"
    return _doc(shown)


def _doc(doc: dict[str, Any]) -> str:
    if not doc:
        return "{}"
    return "{ " + ", ".join(f"{k}: {_value(v)}" for k, v in doc.items()) + " }"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, Int64 | int):
        return str(int(v))
    if isinstance(v, float):
        if math.isnan(v):
            return "nan.0"
        if math.isinf(v):
            return "inf.0" if v > 0 else "-inf.0"
        return f"{v:.1f}" if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dict):
        return _doc(v)
    if isinstance(v, list | tuple):
        return "[ " + ", ".join(_value(x) for x in v) + " ]" if v else "[]"
    if isinstance(v, Timestamp):
        return f"Timestamp({v.time}, {v.inc})"
    if isinstance(v, ObjectId):
        return f"ObjectId('{v}')"
    if isinstance(v, uuid.UUID):
        return f'UUID("{v}")'
    if isinstance(v, Binary):
        if v.subtype == 4 and len(v) == 16:
            return f'UUID("{uuid.UUID(bytes=bytes(v))}")'
        return f"BinData({v.subtype}, {bytes(v).hex().upper()})"
    if isinstance(v, bytes):
        return f"BinData(0, {v.hex().upper()})"
    if isinstance(v, datetime.datetime):
        return f"new Date({int(v.replace(tzinfo=datetime.UTC).timestamp() * 1000)})"
    if isinstance(v, Decimal128):
        return f'NumberDecimal("{v}")'
    return "?"

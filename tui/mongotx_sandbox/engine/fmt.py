"""Render values roughly as the server does in error messages ({a: 1, b: "x"})."""

from __future__ import annotations

import datetime
from typing import Any

from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.objectid import ObjectId


def shell(value: Any, depth: int = 0) -> str:
    if depth > 8:
        return "..."
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = ", ".join(f"{k}: {shell(v, depth + 1)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[ " + ", ".join(shell(v, depth + 1) for v in value) + " ]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, Int64):
        return f"{int(value)}"
    if isinstance(value, Decimal128):
        return f'NumberDecimal("{value}")'
    if isinstance(value, ObjectId):
        return f"ObjectId('{value}')"
    if isinstance(value, datetime.datetime):
        return f"new Date({int(value.replace(tzinfo=datetime.UTC).timestamp() * 1000)})"
    return repr(value)

"""Python source text for BSON values (for exported scripts), collecting needed imports.

Everything a scenario file says reaches an exported script through here or `pystr`, as a
literal: a value can never become code, whatever characters it holds. `oneline` is for the
few places that put file text in a comment.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


class ExportError(ValueError):
    """A value that has no Python literal (the export says which, instead of a traceback)."""


def pystr(text: str) -> str:
    """A str literal for `text` (repr: quotes, backslashes, control characters and lone
    surrogates escaped), in double quotes where that needs no escaping."""
    out = repr(text)
    if out[0] == "'" and '"' not in text and "'" not in text:
        out = '"' + out[1:-1] + '"'
    return out


def oneline(text: str) -> str:
    """Text for a `#` comment: one line, non-printable characters written as escapes."""
    text = " ".join(text.split())
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


class PyLiteral:
    def __init__(self) -> None:
        self.imports: set[str] = set()

    def __call__(self, value: Any) -> str:
        from bson import Binary, Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Timestamp

        if isinstance(value, bool) or value is None:
            return repr(value)
        if isinstance(value, Int64):
            self.imports.add("from bson import Int64")
            return f"Int64({int(value)})"
        if isinstance(value, int):
            return repr(int(value))
        if isinstance(value, float):
            if math.isfinite(value):
                return repr(float(value))
            return f'float("{value}")' if value == value else 'float("nan")'
        if isinstance(value, str) and not isinstance(value, Code):  # Code is a str too
            return pystr(str(value))
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self(str(k))}: {self(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list | tuple):
            return "[" + ", ".join(self(v) for v in value) + "]"
        if isinstance(value, Binary) and value.subtype != 0:
            self.imports.add("from bson import Binary")
            return f"Binary({bytes(value)!r}, {int(value.subtype)})"
        if isinstance(value, bytes):
            return repr(bytes(value))
        if isinstance(value, ObjectId):
            self.imports.add("from bson import ObjectId")
            return f'ObjectId("{value}")'
        if isinstance(value, Decimal128):
            self.imports.add("from bson import Decimal128")
            return f"Decimal128({pystr(str(value))})"
        if isinstance(value, dt.datetime):
            self.imports.add("import datetime")
            return repr(value).replace("datetime.timezone.utc", "datetime.UTC")
        if isinstance(value, Timestamp):
            self.imports.add("from bson import Timestamp")
            return f"Timestamp({int(value.time)}, {int(value.inc)})"
        if isinstance(value, MinKey | MaxKey):
            name = type(value).__name__
            self.imports.add(f"from bson import {name}")
            return f"{name}()"
        return self.extended_json(value)

    def extended_json(self, value: Any) -> str:
        """Any other BSON value (Regex, Code, DBRef, ...) as Extended JSON text, decoded by
        the script: data, never code."""
        import bson
        from bson import json_util

        try:
            bson.encode({"v": value})  # a value MongoDB can hold, or nothing to export
            text = json_util.dumps(value, json_options=json_util.CANONICAL_JSON_OPTIONS)
        except (bson.errors.BSONError, TypeError, ValueError, OverflowError) as exc:
            raise ExportError(
                f"cannot export a {type(value).__name__} value (not a BSON value: {exc})"
            ) from None
        self.imports.add("from bson import json_util")
        return f"json_util.loads({pystr(text)})"

"""Python source text for BSON values (for exported scripts), collecting needed imports."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


class PyLiteral:
    def __init__(self) -> None:
        self.imports: set[str] = set()

    def __call__(self, value: Any) -> str:
        from bson import Decimal128, Int64, ObjectId

        if isinstance(value, bool) or value is None:
            return repr(value)
        if isinstance(value, Int64):
            self.imports.add("from bson import Int64")
            return f"Int64({int(value)})"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self(str(k))}: {self(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list | tuple):
            return "[" + ", ".join(self(v) for v in value) + "]"
        if isinstance(value, ObjectId):
            self.imports.add("from bson import ObjectId")
            return f'ObjectId("{value}")'
        if isinstance(value, Decimal128):
            self.imports.add("from bson import Decimal128")
            return f'Decimal128("{value}")'
        if isinstance(value, dt.datetime):
            self.imports.add("import datetime")
            return repr(value).replace("datetime.timezone.utc", "datetime.UTC")
        raise TypeError(f"cannot export a {type(value).__name__} value")

"""updateDescription for change events: what an update changed, field path by field path.

Shape from the manual's change events page: updatedFields and removedFields by dotted path,
truncatedArrays for arrays that got shorter, and (with showExpandedEvents) disambiguatedPaths
for paths whose components could be misread (numeric field names, dots in names).
"""

from __future__ import annotations

from typing import Any

import bson

_SCALARS = (str, int, float, bool, type(None))


def same_value(a: Any, b: Any) -> bool:
    """Same BSON type and value (cheap for scalars, byte comparison for the rest)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, _SCALARS):
        return a == b or (a != a and b != b)  # NaN equals NaN as stored bytes
    return bson.encode({"v": a}) == bson.encode({"v": b})


class _Diff:
    def __init__(self) -> None:
        self.updated: dict[str, Any] = {}
        self.removed: list[str] = []
        self.truncated: list[dict[str, Any]] = []
        self.ambiguous: dict[str, list[Any]] = {}

    def note(self, parts: list[Any]) -> str:
        path = ".".join(str(p) for p in parts)
        if any(isinstance(p, str) and (p.isdigit() or "." in p) for p in parts):
            self.ambiguous[path] = list(parts)
        return path

    def doc(self, old: dict[str, Any], new: dict[str, Any], parts: list[Any]) -> None:
        for key, value in new.items():
            here = [*parts, key]
            if key not in old:
                self.updated[self.note(here)] = value
            elif not same_value(old[key], value):
                self.value(old[key], value, here)
        for key in old:
            if key not in new:
                self.removed.append(self.note([*parts, key]))

    def value(self, old: Any, new: Any, parts: list[Any]) -> None:
        if type(old) is dict and type(new) is dict:
            self.doc(old, new, parts)
        elif type(old) is list and type(new) is list:
            if len(new) < len(old):
                self.truncated.append({"field": self.note(parts), "newSize": len(new)})
            for i, item in enumerate(new):
                if i >= len(old):
                    self.updated[self.note([*parts, i])] = item
                elif not same_value(old[i], item):
                    self.value(old[i], item, [*parts, i])
        else:
            self.updated[self.note(parts)] = new


def update_description(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    diff = _Diff()
    diff.doc(old, new, [])
    out: dict[str, Any] = {
        "updatedFields": diff.updated,
        "removedFields": diff.removed,
        "truncatedArrays": diff.truncated,
    }
    if diff.ambiguous:
        out["disambiguatedPaths"] = diff.ambiguous
    return out

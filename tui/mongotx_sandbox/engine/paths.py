"""Dotted field paths: reading candidate values the way MongoDB's query system does, and
setting a value at a path the way update operators and aggregation stages do."""

from __future__ import annotations

from typing import Any

from .compare import MISSING
from .errors import err
from .fmt import shell


def collect_values(value: Any, parts: list[str], i: int = 0) -> list[Any]:
    """Every value reached by ``parts`` from ``value``, traversing arrays of documents.

    Absent branches contribute MISSING (so `null` queries and $exists work). A numeric component
    indexes into an array and also looks into documents of that array (MongoDB does both).
    """
    out: list[Any] = []
    _collect(value, parts, i, out)
    return out


def _collect(value: Any, parts: list[str], i: int, out: list[Any]) -> None:
    if i == len(parts):
        out.append(value)
        return
    part = parts[i]
    if isinstance(value, dict):
        if part in value:
            _collect(value[part], parts, i + 1, out)
        else:
            out.append(MISSING)
        return
    if isinstance(value, list):
        found = False
        if part.isdigit():
            idx = int(part)
            if idx < len(value):
                _collect(value[idx], parts, i + 1, out)
                found = True
        for elem in value:
            if isinstance(elem, dict):
                if part in elem:
                    _collect(elem[part], parts, i + 1, out)
                    found = True
                elif not part.isdigit():
                    out.append(MISSING)
                    found = True
        if not found:
            out.append(MISSING)
        return
    out.append(MISSING)


def get_path(doc: Any, path: str) -> Any:
    """The value at a dotted path without array traversal (numeric parts index arrays)."""
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                return MISSING
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit():
            idx = int(part)
            if idx >= len(cur):
                return MISSING
            cur = cur[idx]
        else:
            return MISSING
    return cur


def deep_copy(value: Any) -> Any:
    """Copy dicts and lists recursively (BSON leaf values are immutable)."""
    t = type(value)
    if t is dict:
        return {k: deep_copy(v) for k, v in value.items()}
    if t is list:
        return [deep_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [deep_copy(v) for v in value]
    return value


def cannot_create(part: str, parent_name: str, parent: Any) -> Exception:
    return err(28, f"Cannot create field '{part}' in element {{{parent_name}: {shell(parent)}}}")


def set_path(doc: dict[str, Any], parts: list[str], value: Any, path: str = "") -> None:
    """Set the value at `parts`, creating documents on the way and padding arrays with null
    up to a numeric index; 28 PathNotViable through a scalar (manual: $set "Behavior")."""
    cur: Any = doc
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(cur, dict):
            if last:
                cur[part] = value
                return
            nxt = cur.get(part, MISSING)
            if nxt is MISSING:
                nxt = cur[part] = {}
            elif not isinstance(nxt, (dict, list)):
                raise cannot_create(parts[i + 1], part, nxt)
            cur = nxt
        elif isinstance(cur, list):
            if not part.isdigit():
                raise cannot_create(part, parts[i - 1], cur)
            idx = int(part)
            if idx >= len(cur):
                cur.extend([None] * (idx + 1 - len(cur)))
            if last:
                cur[idx] = value
                return
            nxt = cur[idx]
            if nxt is None:
                nxt = cur[idx] = {}
            elif not isinstance(nxt, (dict, list)):
                raise cannot_create(parts[i + 1], part, nxt)
            cur = nxt
        else:  # pragma: no cover - guarded above
            raise cannot_create(part, parts[i - 1] if i else "", cur)

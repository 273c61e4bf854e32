"""Dotted field paths: reading candidate values the way MongoDB's query system does."""

from __future__ import annotations

from typing import Any

from .compare import MISSING


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

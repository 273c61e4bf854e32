"""Sorting documents in MongoDB order.

Source: manual, cursor.sort() "Behavior": missing fields sort as null; for arrays an ascending
sort uses the array's smallest element and a descending sort its largest; an empty array sorts
before null. Sorts are stable here (the server does not promise it; tests like stable output).
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.objectid import ObjectId

from .active_collation import ACTIVE as _COLLATION
from .compare import EMPTY_ARRAY_KEY, MISSING, compare_values, is_number
from .errors import bad_value
from .paths import collect_values


def parse_sort(sort: Any) -> list[tuple[str, int]]:
    if sort is None:
        return []
    if isinstance(sort, list):  # [(field, dir)] from pymongo-style callers
        sort = dict(sort)
    if not isinstance(sort, dict):
        raise bad_value("sort must be an object")
    keys: list[tuple[str, int]] = []
    for field, direction in sort.items():
        if field == "$natural":
            # {$natural: 1|-1}: storage order, which is the order the caller passes in.
            continue
        if isinstance(direction, dict):
            # {$meta: "textScore"} and friends: no effect in the sandbox (ignored).
            if "$meta" in direction:
                continue
            raise bad_value(f"Illegal key in $sort specification: {field}: {direction}")
        if not is_number(direction):
            raise bad_value("$sort key ordering must be 1 (for ascending) or -1 (for descending)")
        d = float(direction.to_decimal()) if isinstance(direction, Decimal128) else direction
        if d not in (1, -1):
            raise bad_value("$sort key ordering must be 1 (for ascending) or -1 (for descending)")
        if field == "":
            raise bad_value("FieldPath cannot be constructed with empty string")
        keys.append((field, int(d)))
    return keys


def _key_for(doc: Any, field: str, direction: int) -> Any:
    values = collect_values(doc, field.split(".")) if isinstance(doc, dict) else [MISSING]
    best: Any = MISSING
    first = True
    for v in values:
        if v is MISSING:
            candidates: list[Any] = [None]
        elif isinstance(v, list):
            candidates = list(v) if v else [EMPTY_ARRAY_KEY]
        else:
            candidates = [v]
        for c in candidates:
            if c is MISSING:
                c = None
            if first:
                best = c
                first = False
            else:
                cmp = compare_values(c, best)
                if (direction > 0 and cmp < 0) or (direction < 0 and cmp > 0):
                    best = c
    return None if first else best


def document_sort_key_function(sort: Any) -> Any:
    """A ``key=`` function for list.sort() implementing the sort specification."""
    keys = parse_sort(sort)

    def compare(a: tuple, b: tuple) -> int:
        for (_, direction), ka, kb in zip(keys, a[0], b[0], strict=True):
            c = compare_values(ka, kb)
            if c:
                return c * direction
        return 0

    cmp_key = functools.cmp_to_key(compare)

    def key(doc: Any) -> Any:
        return cmp_key(([_key_for(doc, f, d) for f, d in keys],))

    return key


def sort_documents(docs: list[dict[str, Any]], sort: Any) -> list[dict[str, Any]]:
    keys = parse_sort(sort)
    if not keys:
        if isinstance(sort, dict) and sort.get("$natural") == -1:
            return list(reversed(docs))
        return list(docs)
    fast = _single_typed_key(docs, keys)
    if fast is not None:
        field, direction = keys[0]
        return sorted(docs, key=lambda d: d[field], reverse=direction < 0)
    return sorted(docs, key=document_sort_key_function(sort))


def _single_typed_key(docs: list[dict[str, Any]], keys: list[tuple[str, int]]) -> bool | None:
    """True when one top-level field orders the documents the same way Python's own
    comparison does: present everywhere, and all numbers (no NaN, no Decimal128), or all
    ObjectIds, datetimes, or strings without a collation. Sorting a 100k-document page
    by `_id` then costs a plain sort instead of the BSON comparator."""
    if len(keys) != 1 or "." in keys[0][0] or not docs:
        return None
    field = keys[0][0]
    first = docs[0].get(field, MISSING)
    if first is MISSING:
        return None
    if isinstance(first, bool):
        return None
    if isinstance(first, int | float):
        for doc in docs:
            value = doc.get(field, MISSING)
            if type(value) not in _NUMBER_TYPES or value != value:  # NaN sorts first in BSON
                return None
        return True
    kind = type(first)
    if kind not in _PLAIN_TYPES or (kind is str and _COLLATION.get() is not None):
        return None
    for doc in docs:
        if type(doc.get(field, MISSING)) is not kind:
            return None
    return True


_NUMBER_TYPES = frozenset({int, Int64, float})
_PLAIN_TYPES = frozenset({str, ObjectId, datetime.datetime})

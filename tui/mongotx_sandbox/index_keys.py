"""The keys a document adds to a secondary index, made as MongoDB's B-tree key generator
makes them (server: src/mongo/db/index/btree_key_generator.cpp, BtreeKeyGenerator::getKeys
and _getKeysWithArray):

- an array on an indexed path gives one key per element (a "multikey" index), and an
  empty array gives the key `undefined`; an array of arrays indexes each inner array whole;
- one array per key: a compound key whose fields reach two different arrays fails with
  171 CannotIndexParallelArrays;
- a missing field is `null`; a sparse index takes no key from a document that has none of
  its fields, and a partial index none from one its filter does not match (handled by
  the caller, store.Index.keys).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from . import engine
from .engine.compare import R_UNDEFINED
from .errors import CommandError


class _Undefined:
    """The value an empty array is indexed as (BSON undefined)."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = _Undefined()
_MISSING = object()


def document_keys(
    paths: list[str],
    doc: dict[str, Any],
    *,
    sparse: bool,
    collation: dict[str, Any] | None = None,
) -> dict[Hashable, tuple[Any, ...]]:
    """Each distinct key `doc` gives the index on `paths`: canonical key → its values.
    Strings compare under the index's `collation` (its collation keys are what it stores:
    server: db/query/collation/collation_index_key.cpp)."""
    raw: list[tuple[Any, ...]] = []
    _expand(list(paths), [None] * len(paths), doc, 0, sparse, raw)
    return {tuple(_canonical(v, collation) for v in values): values for values in raw}


def _canonical(value: Any, collation: dict[str, Any] | None) -> Hashable:
    if value is UNDEFINED:
        return (R_UNDEFINED,)
    return engine.canonical_key(value, collation=collation)


def _expand(
    paths: list[str],
    fixed: list[Any],
    obj: Any,
    not_found: int,
    sparse: bool,
    out: list[tuple[Any, ...]],
) -> None:
    """One level of the key generator: resolve every unfinished path in `obj` up to its end
    or the first array on it, then recurse once per element of that (single) array."""
    paths, fixed = list(paths), list(fixed)
    if not isinstance(obj, dict):  # an element that is no document has none of the fields
        obj = {}
    array: list[Any] | None = None
    array_name = ""
    through: list[int] = []  # the paths that reach `array`
    for i, path in enumerate(paths):
        if not path:
            continue
        value, rest, name = _walk(obj, path)
        if value is _MISSING:
            fixed[i], paths[i] = None, ""
            not_found += 1
        elif isinstance(value, list):
            if array is None:
                array, array_name = value, name
            elif value is not array:
                raise CommandError(171, f"cannot index parallel arrays [{name}] [{array_name}]")
            through.append(i)
            paths[i] = rest
        else:
            fixed[i], paths[i] = value, ""
    if array is None:
        if not (sparse and not_found == len(paths)):
            out.append(tuple(fixed))
        return
    for element in array or [UNDEFINED]:
        element_fixed = list(fixed)
        for i in through:
            if not paths[i]:  # the path ends at the array: the element is the value
                element_fixed[i] = element
        _expand(paths, element_fixed, element, not_found, sparse, out)


def _walk(obj: dict[str, Any], path: str) -> tuple[Any, str, str]:
    """The value at `path` in `obj`, stopping at the first array on the way: (value, the
    rest of the path after it, its field name). A numeric part picks an array's element by
    position (a positional key pattern such as `a.0`), without expanding the array."""
    parts = path.split(".")
    name = parts[0]
    i = 0
    while i < len(parts):
        if isinstance(obj, list):
            if not (parts[i].isdigit() and int(parts[i]) < len(obj)):
                return obj, ".".join(parts[i:]), name
            obj = obj[int(parts[i])]
        elif isinstance(obj, dict) and parts[i] in obj:
            obj = obj[parts[i]]
        else:
            return _MISSING, "", parts[i]
        name = parts[i]
        i += 1
    return obj, "", name

"""find's `min` and `max`: index bounds, read as an index scan of the hinted index from `min`
(inclusive) to `max` (exclusive) in the index's key order (manual: cursor.min(), cursor.max();
server: db/query/query_planner.cpp QueryPlanner::plan, the min/max branch)."""

from __future__ import annotations

import functools
import itertools
from typing import Any

from .. import engine
from ..access import engine_error
from ..errors import CommandError
from ..store import Collection, Index
from .common import get_doc


class Bounds:
    """The hinted index's key pattern and the bounds on it (None: open)."""

    def __init__(self, key: dict[str, Any], low: list[Any] | None, high: list[Any] | None):
        self.fields = list(key)
        self.directions = [-1 if _descending(v) else 1 for v in key.values()]
        self.low = low
        self.high = high

    def _compare(self, a: list[Any], b: list[Any]) -> int:
        for x, y, direction in zip(a, b, self.directions, strict=True):
            try:
                c = engine.compare_values(x, y)
            except engine.EngineError as exc:
                raise engine_error(exc) from exc
            if c:
                return c * direction
        return 0

    def _in_range(self, key: list[Any]) -> bool:
        if self.low is not None and self._compare(key, self.low) < 0:
            return False
        return self.high is None or self._compare(key, self.high) < 0

    def apply(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The documents with an index key in range, in index order (a multikey document
        once, at its first key in range)."""
        hits: list[tuple[list[Any], int, dict[str, Any]]] = []
        for i, doc in enumerate(docs):
            keys = [k for k in _keys(doc, self.fields) if self._in_range(k)]
            if keys:
                first = min(keys, key=functools.cmp_to_key(self._compare))
                hits.append((first, i, doc))
        hits.sort(key=functools.cmp_to_key(lambda a, b: self._compare(a[0], b[0]) or a[1] - b[1]))
        return [doc for _, _, doc in hits]


def _descending(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value < 0


def _keys(doc: dict[str, Any], fields: list[str]) -> list[list[Any]]:
    """The index keys of `doc`: one per array element of a multikey field; a missing field
    is null in the key."""
    per_field: list[list[Any]] = []
    for field in fields:
        value: Any = doc
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        per_field.append(list(value) if isinstance(value, list) and value else [value])
    return [list(combo) for combo in itertools.product(*per_field)]


def _hinted(coll: Collection, hint: Any) -> Index | None:
    if isinstance(hint, str):
        return coll.indexes.get(hint)
    if isinstance(hint, dict) and hint:
        return next((i for i in coll.indexes.values() if i.key == hint), None)
    return None


def parse(coll: Collection | None, body: dict[str, Any]) -> Bounds | None:
    """The bounds of a find with `min`/`max`, refused as mongod refuses them; None without."""
    low = get_doc(body, "min") or None
    high = get_doc(body, "max") or None
    if (low is None and high is None) or coll is None:
        return None
    hint = body.get("hint")
    if not hint:
        # 51173 as in 7.0/8.0 (newer servers answer 291 NoQueryExecutionPlans).
        raise CommandError(
            51173, "When using min()/max() a hint of which index to use must be provided"
        )
    index = _hinted(coll, hint)
    if index is None:
        raise CommandError(
            2,
            f"error processing query: ns={coll.ns} planner returned error :: caused by :: "
            "hint provided does not correspond to an existing index",
        )
    fields = list(index.key)
    for bound in (low, high):
        # indexCompatibleMaxMin: the bound names the key pattern's fields, in its order.
        if bound is not None and list(bound) != fields:
            raise CommandError(51174, "The index chosen is not compatible with min/max")
    bounds = Bounds(
        index.key,
        list(low.values()) if low is not None else None,
        list(high.values()) if high is not None else None,
    )
    if bounds.low is not None and bounds.high is not None:
        if bounds._compare(bounds.low, bounds.high) >= 0:
            raise CommandError(
                51175,
                "The value provided for min() does not come before the value provided for "
                "max() in the hinted index",
            )
    return bounds

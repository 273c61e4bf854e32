"""The sandbox's query engine: matching, updates, projection, sorting and aggregation over
plain Python dict documents holding the values pymongo's ``bson`` decodes to.

This package is the only place that knows about the underlying library (mongomock-ng, used
through ``_lib``); the rest of the sandbox calls only the functions below. Every public function
raises EngineError (code, code_name, message) for bad input and never lets another exception out.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from . import compare as _compare
from . import interrupt
from . import match as _match
from . import project as _project
from . import sort as _sort
from ._lazy import LazyModule
from .active_collation import ACTIVE as _ACTIVE_COLLATION
from .errors import EngineError, guarded, translate
from .interrupt import Interrupt

# Loaded on first use, not here: aggregation (with $group and the expression library),
# updates and collation rules are about 1.5 ms of imports that the workbench's cold start
# (hello, find, insert, count) never uses.
_aggregate = LazyModule(f"{__name__}.aggregate")
_collation = LazyModule(f"{__name__}.collation")
_update = LazyModule(f"{__name__}.update")

__all__ = [
    "EngineError",
    "Interrupt",
    "apply_projection",
    "apply_replacement",
    "apply_update",
    "canonical_key",
    "check_collation",
    "compare_values",
    "distinct_values",
    "interrupt",
    "is_simple_collation",
    "matches",
    "parse_update",
    "run_pipeline",
    "sort_documents",
    "type_name",
    "upsert_seed",
]


def _collated(collation: dict[str, Any] | None, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` under ``collation`` (None: binary comparison). A call without a collation
    while none is active runs directly (the fast path)."""
    if collation is None and _ACTIVE_COLLATION.get() is None:
        return fn(*args)
    return _collation.call_with(_collation.key_function(collation), fn, *args)


@guarded
def check_collation(collation: Any) -> None:
    """Validate a collation document (EngineError: 40414 without locale, 40415 for an
    unknown field, 14 for a wrong type, 2 for a bad value). Source: manual, "Collation"."""
    _collation.key_function(collation)


@guarded
def is_simple_collation(collation: dict[str, Any] | None) -> bool:
    """True when ``collation`` compares strings binary (None or ``{locale: "simple"}``)."""
    return _collation.is_simple(collation)


def type_name(value: Any) -> str:
    """The $type alias of a value ("int", "long", "string", "object" ...), for messages."""
    return _compare.type_name(value)


@guarded
def compare_values(a: Any, b: Any, *, collation: dict[str, Any] | None = None) -> int:
    """-1/0/1 in MongoDB's BSON comparison order (numbers compare by value across types);
    strings compare under ``collation`` when given."""
    return _collated(collation, _compare.compare_values, a, b)


def canonical_key(value: Any, *, collation: dict[str, Any] | None = None) -> Hashable:
    """A hashable key, equal for two values iff compare_values(a, b) == 0 (the _id index key).
    With a (non-simple) ``collation``: equal iff equal under that collation (grouping).

    Not wrapped by the generic guard to stay cheap; it only fails on values bson cannot hold.
    """
    try:
        if collation is None:
            return _compare.canonical_key(value)
        return _collation.call_with(
            _collation.key_function(collation), _compare.collated_key, value
        )
    except EngineError:
        raise
    except Exception as exc:  # last-resort guard (see errors.guarded)
        raise EngineError(2, "BadValue", f"cannot index value: {exc}") from exc


def matches(
    filter: dict[str, Any] | None,
    doc: dict[str, Any],
    *,
    let: dict | None = None,
    collation: dict[str, Any] | None = None,
) -> bool:
    """True if ``doc`` satisfies the query filter. ``let``: variables for $expr ($$name);
    ``collation``: how strings compare (None: binary)."""
    try:
        interrupt.check()  # one interrupt point per document a scan tests
        if collation is None and _ACTIVE_COLLATION.get() is None:
            return _match.matches(filter, doc, let)
        return _collation.call_with(
            _collation.key_function(collation), _match.matches, filter, doc, let
        )
    except EngineError:
        raise
    except Exception as exc:  # last-resort guard: no Python exception may escape the engine
        raise translate(exc) from exc


@guarded
def apply_update(
    doc: dict[str, Any],
    update: dict[str, Any] | list[dict[str, Any]],
    *,
    array_filters: list[dict[str, Any]] | None = None,
    query: dict[str, Any] | None = None,
    is_upsert_insert: bool = False,
    let: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A new document: ``doc`` with the update applied (operator document, replacement
    document, or aggregation pipeline). ``query`` resolves the positional ``$``;
    ``is_upsert_insert`` applies $setOnInsert; ``let`` gives variables to pipeline updates."""
    variables = None
    if isinstance(update, list):
        variables = _aggregate.base_variables(let)
    return _update.apply_update(
        doc,
        update,
        array_filters=array_filters,
        query=query,
        is_upsert_insert=is_upsert_insert,
        variables=variables,
    )


@guarded
def parse_update(update: Any, array_filters: list[dict[str, Any]] | None = None) -> None:
    """Refuse a malformed update (operators, arrayFilters, pipeline stages) before any
    document is matched, as mongod parses it first."""
    _update.parse_update(update, array_filters)


@guarded
def apply_replacement(doc: dict[str, Any], replacement: dict[str, Any]) -> dict[str, Any]:
    """A new document: ``replacement`` with the ``_id`` of ``doc`` first."""
    return _update.apply_replacement(doc, replacement)


@guarded
def upsert_seed(query: dict[str, Any] | None) -> dict[str, Any]:
    """The document an upsert starts from: the equality conditions of ``query``."""
    return _update.upsert_seed(query)


@guarded
def apply_projection(
    doc: dict[str, Any],
    projection: dict[str, Any] | None,
    *,
    query: dict[str, Any] | None = None,
    let: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A find() projection of ``doc`` (``query`` resolves ``field.$``)."""
    variables = None
    if let:
        variables = _aggregate.base_variables(let)
    return _project.apply_projection(doc, projection, query=query, variables=variables)


@guarded
def sort_documents(
    docs: list[dict[str, Any]],
    sort: dict[str, Any] | None,
    *,
    collation: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A new list: ``docs`` sorted (stable) by the sort specification (strings under
    ``collation`` when given)."""
    return _collated(collation, _sort.sort_documents, docs, sort)


@guarded
def run_pipeline(
    docs: list[dict[str, Any]],
    pipeline: list[dict[str, Any]],
    *,
    lookup: Callable[[str], list[dict[str, Any]]] | None = None,
    let: dict[str, Any] | None = None,
    collation: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run an aggregation pipeline. ``lookup(name)`` returns another collection's documents.
    ``collation`` applies to $match, $sort, $group keys, $addToSet and expression
    comparisons ($eq, $cmp, $min ...)."""

    def run() -> list[dict[str, Any]]:
        return _aggregate.run_pipeline(docs, pipeline, lookup=lookup, let=let)

    return _collated(collation, run)


@guarded
def distinct_values(
    docs: list[dict[str, Any]], key: str, *, collation: dict[str, Any] | None = None
) -> list[Any]:
    """Distinct values at ``key`` (arrays unwound one level), in BSON order; under a
    ``collation`` values equal by it count once (the first one seen is returned)."""
    return _collated(collation, _aggregate.distinct_values, docs, key)

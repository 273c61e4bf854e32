"""The one module that talks to mongomock-ng (import name ``mongomock_ng``, pinned 7.11.1).

Everything else in the engine calls the library only through the functions here, so the library
can be replaced by rewriting this file. What we use it for: aggregation *expressions*
(``$add``, ``$cond``, ``$map`` ...), a few pipeline stages we do not implement ourselves
(``$redact``, ``$sample``, ``$setWindowFields``, ``$fill``), and GeoJSON predicates.

The library marks a missing value with its own sentinel; we translate it to our MISSING.
"""

from __future__ import annotations

import datetime
import operator
from typing import Any

import mongomock_ng
from mongomock_ng import aggregate as _agg
from mongomock_ng import filtering as _filtering
from sentinels import NOTHING  # the library's "missing" marker (a dependency of mongomock-ng)

from . import numeric
from .compare import MISSING, UNDEFINED, compare_values, is_number, type_rank
from .expressions import EXTRA_EXPRESSIONS


def _from_lib(value: Any) -> Any:
    return MISSING if value is NOTHING else value


def _to_lib(value: Any) -> Any:
    return NOTHING if value is MISSING else value


def _lib_vars(variables: dict[str, Any] | None) -> dict[str, Any]:
    return {k: _to_lib(v) for k, v in (variables or {}).items()}


def eval_expression(expression: Any, doc: dict[str, Any], variables: dict[str, Any] | None) -> Any:
    """Evaluate an aggregation expression against ``doc``; MISSING when it yields nothing."""
    return _from_lib(_agg._parse_expression(expression, doc, user_vars=_lib_vars(variables)))


def is_missing_marker(value: Any) -> bool:
    return value is NOTHING or value is MISSING


def run_library_stage(
    name: str,
    docs: list[dict[str, Any]],
    options: Any,
    variables: dict[str, Any] | None,
) -> list[dict[str, Any]] | None:
    """Run one stage with the library's handler; None when the library has no handler."""
    handler = _agg._PIPELINE_HANDLERS.get(name)
    if handler is None:
        return None
    return list(handler(docs, None, options, _lib_vars(variables)))


def geo_within(value: Any, spec: Any) -> bool:
    return bool(_filtering._geo_within_op(_to_lib(value), spec))


def geo_intersects(value: Any, spec: Any) -> bool:
    return bool(_filtering._geo_intersects_op(_to_lib(value), spec))


# --------------------------------------------------------------------------------------------
# Library patches (the ONLY place the engine changes library behaviour).
#
# Why: mongomock-ng compares values with Python operators (so True == 1, 1 matches true, Int64
# and Decimal128 mix badly) and has its own, wrong, BSON type order. Aggregation expressions
# ($eq, $gt, $cmp, $in, $max ...) and the library's internal sorts go through
# ``filtering.bson_compare`` / ``operator_eq`` and ``_Parser._handle_comparison_operator``.
# We replace exactly those three hooks with our comparator (compare.compare_values) so the
# expressions we evaluate through the library follow MongoDB's comparison order. They are set
# once, at import of this module; nothing else in the library is modified.
# --------------------------------------------------------------------------------------------

_OPS = {
    operator.lt: lambda c: c < 0,
    operator.le: lambda c: c <= 0,
    operator.gt: lambda c: c > 0,
    operator.ge: lambda c: c >= 0,
    operator.eq: lambda c: c == 0,
    operator.ne: lambda c: c != 0,
}


def _patched_bson_compare(op: Any, a: Any, b: Any, can_compare_types: bool = True) -> bool:
    a = None if a is NOTHING else a
    b = None if b is NOTHING else b
    if not can_compare_types and type_rank(a) != type_rank(b):
        return False
    check = _OPS.get(op)
    c = compare_values(a, b)
    return check(c) if check else op(c, 0)


def _patched_operator_eq(doc_val: Any, search_val: Any) -> bool:
    doc_val = None if doc_val is NOTHING else doc_val
    search_val = None if search_val is NOTHING else search_val
    return compare_values(doc_val, search_val) == 0


_ORIGINAL_COMPARISON = _agg._Parser._handle_comparison_operator


def _patched_comparison(self: Any, op: str, values: Any) -> Any:
    if not isinstance(values, list) or len(values) != 2:
        raise mongomock_ng.OperationFailure(
            f"Expression {op} takes exactly 2 arguments. "
            f"{len(values) if isinstance(values, list) else 1} were passed in.",
            16020,
        )
    a = _from_lib(self.parse(values[0]))
    b = _from_lib(self.parse(values[1]))
    # In expressions a missing field is "missing", which sorts with undefined, below null:
    # {$eq: ["$nofield", null]} is false (server's Value::compare, canonical type 0 for EOO).
    a = UNDEFINED if a is MISSING else a
    b = UNDEFINED if b is MISSING else b
    c = compare_values(a, b)
    if op == "$cmp":
        return c
    return {
        "$eq": c == 0,
        "$ne": c != 0,
        "$gt": c > 0,
        "$gte": c >= 0,
        "$lt": c < 0,
        "$lte": c <= 0,
    }[op]


_ORIGINAL_PARSE = _agg._Parser.parse
_ORIGINAL_ARITHMETIC = _agg._Parser._handle_arithmetic_operator


def _patched_parse(self: Any, expression: Any) -> Any:
    # Expression operators the library lacks (see expressions.py) are evaluated by us; their
    # arguments still go through the library's parser, so they nest both ways.
    if type(expression) is dict and len(expression) == 1:
        name = next(iter(expression))
        handler = EXTRA_EXPRESSIONS.get(name)
        if handler is not None:
            result = handler(lambda e: _from_lib(self.parse(e)), expression[name], self._doc_dict)
            return _to_lib(result)
    return _ORIGINAL_PARSE(self, expression)


def _patched_arithmetic(self: Any, op: str, values: Any) -> Any:
    # The library does Python arithmetic, so Int64 + int loses the long type and Decimal128
    # fails. For $add/$subtract/$multiply over plain numbers we keep MongoDB's result types.
    if op in ("$add", "$subtract", "$multiply") and isinstance(values, list):
        args = [_from_lib(self.parse(v)) for v in values]
        if args and all(is_number(a) for a in args):
            if op == "$subtract":
                if len(args) != 2:
                    raise mongomock_ng.OperationFailure(
                        f"Expression $subtract takes exactly 2 arguments. {len(args)} were "
                        "passed in.",
                        16020,
                    )
                return numeric.subtract(args[0], args[1])
            result = args[0]
            for a in args[1:]:
                result = numeric.add(result, a) if op == "$add" else numeric.multiply(result, a)
            return result
        if any(a is None or a is MISSING for a in args) and not any(
            isinstance(a, datetime.datetime) for a in args
        ):
            return None
    return _ORIGINAL_ARITHMETIC(self, op, values)


def _install_patches() -> None:
    _filtering.bson_compare = _patched_bson_compare
    _filtering.operator_eq = _patched_operator_eq
    _agg._Parser._handle_comparison_operator = _patched_comparison
    _agg._Parser.parse = _patched_parse
    _agg._Parser._handle_arithmetic_operator = _patched_arithmetic


_install_patches()

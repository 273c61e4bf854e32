"""Aggregation expression operators mongomock-ng lacks, evaluated by us (hooked in by _lib).

Each handler gets ``ev`` (evaluate a sub-expression against the current document), the
operator's argument, and the current document. Sources: manual pages of each operator.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

from bson.int64 import Int64
from bson.timestamp import Timestamp

from .compare import MISSING, compare_values, type_name
from .errors import err
from .regex import expression_search
from .rounding import absolute, power, rounding

_rng = random.Random()


def _set_field(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
    # manual: $setField - field must be a string constant; value $$REMOVE removes the field.
    if not isinstance(arg, dict) or not {"field", "input", "value"} <= set(arg):
        raise err(4161102, "$setField requires 'field', 'input' and 'value' to be specified")
    field = ev(arg["field"])
    if not isinstance(field, str):
        raise err(4161106, "$setField requires 'field' to evaluate to type String")
    source = ev(arg["input"])
    if source is None or source is MISSING:
        return None
    if not isinstance(source, dict):
        raise err(4161105, "$setField requires 'input' to evaluate to type Object")
    value = ev(arg["value"])
    out = dict(source)
    if value is MISSING:
        out.pop(field, None)
    else:
        out[field] = value
    return out


def _unset_field(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
    if not isinstance(arg, dict) or not {"field", "input"} <= set(arg):
        raise err(4161102, "$unsetField requires 'field' and 'input' to be specified")
    return _set_field(ev, {**arg, "value": "$$REMOVE"}, doc)


def _rand(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
    if arg != {}:
        raise err(3040501, "$rand does not currently accept arguments")
    return _rng.random()


def _ts_part(index: int) -> Callable[[Callable[[Any], Any], Any, Any], Any]:
    def handler(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
        value = ev(arg[0] if isinstance(arg, list) and len(arg) == 1 else arg)
        if value is None or value is MISSING:
            return None
        if not isinstance(value, Timestamp):
            raise err(5687301, "Argument to $tsSecond/$tsIncrement must be a timestamp")
        return Int64(value.time if index == 0 else value.inc)

    return handler


def _sort_array(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
    # manual: $sortArray (5.2+): sortBy 1/-1 sorts values, a document sorts by fields.
    if not isinstance(arg, dict) or "input" not in arg or "sortBy" not in arg:
        raise err(2942505, "$sortArray requires 'input' and 'sortBy'")
    values = ev(arg["input"])
    if values is None or values is MISSING:
        return None
    if not isinstance(values, list):
        raise err(2942504, "The input argument to $sortArray must be an array")
    sort_by = arg["sortBy"]
    if isinstance(sort_by, dict):
        from .sort import sort_documents

        return sort_documents(values, sort_by)
    direction = -1 if sort_by == -1 else 1
    return sorted(values, key=functools.cmp_to_key(lambda a, b: direction * compare_values(a, b)))


def _operands(ev: Callable[[Any], Any], arg: Any) -> list[Any]:
    """$sum/$avg/$min/$max in expressions: a list of expressions, or one expression whose
    array value supplies the operands (manual: "$sum (aggregation)" - "Use in ... stages")."""
    if isinstance(arg, list):
        if len(arg) == 1:
            value = ev(arg[0])
            return value if isinstance(value, list) else [value]
        return [ev(a) for a in arg]
    value = ev(arg)
    return value if isinstance(value, list) else [value]


def _accumulator_expression(name: str) -> Callable[[Callable[[Any], Any], Any, Any], Any]:
    def handler(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
        from .group import ACCUMULATOR_FUNCTIONS

        return ACCUMULATOR_FUNCTIONS[name](_operands(ev, arg))

    return handler


def _concat(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
    values = [ev(a) for a in (arg if isinstance(arg, list) else [arg])]
    if any(v is None or v is MISSING for v in values):
        return None
    for v in values:
        if not isinstance(v, str):
            raise err(16702, f"$concat only supports strings, not {type_name(v)}")
    return "".join(values)


def _regex_match(ev: Callable[[Any], Any], arg: Any, doc: Any) -> Any:
    """$regexMatch on PCRE2 (engine/regex.py), as the server's ExpressionRegexMatch: the
    library's runs Python's re, whose backtracking has no limit."""
    op = "$regexMatch"
    if not isinstance(arg, dict):
        raise err(51103, f"{op} expects an object of named arguments but found: {type_name(arg)}")
    for key in arg:
        if key not in ("input", "regex", "options"):
            raise err(31024, f"{op} found an unknown argument: {key}")
    if "input" not in arg:
        raise err(31022, f"{op} requires 'input' parameter")
    if "regex" not in arg:
        raise err(31023, f"{op} requires 'regex' parameter")

    def value(name: str) -> Any:
        v = ev(arg[name]) if name in arg else None
        return None if v is MISSING else v

    return expression_search(op, value("input"), value("regex"), value("options"))


EXTRA_EXPRESSIONS: dict[str, Callable[[Callable[[Any], Any], Any, Any], Any]] = {
    "$setField": _set_field,
    "$unsetField": _unset_field,
    "$rand": _rand,
    "$tsSecond": _ts_part(0),
    "$tsIncrement": _ts_part(1),
    "$sortArray": _sort_array,
    "$sum": _accumulator_expression("$sum"),
    "$avg": _accumulator_expression("$avg"),
    "$min": _accumulator_expression("$min"),
    "$max": _accumulator_expression("$max"),
    "$stdDevPop": _accumulator_expression("$stdDevPop"),
    "$stdDevSamp": _accumulator_expression("$stdDevSamp"),
    "$concat": _concat,
    "$regexMatch": _regex_match,
    "$round": rounding("$round"),
    "$trunc": rounding("$trunc"),
    "$abs": absolute,
    "$pow": power,
}

"""$group accumulators, shared by $group, $bucket and $sortByCount.

Source: manual, reference/operator/aggregation/group and each accumulator's page: $sum ignores
non-numeric values (arrays included) and returns 0 when there are none; $avg/$min/$max ignore
null and missing and return null when nothing is left; $first/$last take null for missing;
$push/$addToSet skip missing values.
"""

from __future__ import annotations

import math
from typing import Any

from bson.decimal128 import Decimal128

from . import numeric
from ._lazy import lib as _lib
from .compare import MISSING, collated_key, compare_values, is_number
from .errors import err

ACCUMULATORS = (
    "$sum",
    "$avg",
    "$min",
    "$max",
    "$first",
    "$last",
    "$push",
    "$addToSet",
    "$count",
    "$mergeObjects",
    "$stdDevPop",
    "$stdDevSamp",
)


def parse_accumulators(spec: dict[str, Any], skip: tuple[str, ...] = ("_id",)) -> list[tuple]:
    out = []
    for field, acc in spec.items():
        if field in skip:
            continue
        if "." in field:
            raise err(40235, f"The field name '{field}' cannot contain '.'")
        if field[:1] == "$":
            raise err(40236, f"The field name '{field}' cannot be an operator name")
        if not isinstance(acc, dict) or len(acc) != 1:
            raise err(40238, f"The field '{field}' must specify one accumulator")
        op, expr = next(iter(acc.items()))
        if op not in ACCUMULATORS:
            raise err(15952, f"unknown group operator '{op}'")
        if op == "$count" and expr != {}:
            raise err(40273, "$count takes no arguments, i.e. $count:{}")
        out.append((field, op, expr))
    return out


def accumulate(
    accumulators: list[tuple], docs: list[dict[str, Any]], variables: dict[str, Any] | None
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for field, op, expr in accumulators:
        if op == "$count":
            result[field] = len(docs)
            continue
        values = [_lib.eval_expression(expr, d, variables) for d in docs]
        result[field] = _ACC[op](values)
    return result


def _sum(values: list[Any]) -> Any:
    return numeric.sum_values(values)


def _avg(values: list[Any]) -> Any:
    nums = [v for v in values if is_number(v)]
    if not nums:
        return None
    total = numeric.sum_values(nums)
    if isinstance(total, Decimal128):
        return Decimal128(str(total.to_decimal() / len(nums)))
    return float(total) / len(nums)


def _present(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not MISSING and v is not None]


def _min(values: list[Any]) -> Any:
    best: Any = MISSING
    for v in _present(values):
        if best is MISSING or compare_values(v, best) < 0:
            best = v
    return None if best is MISSING else best


def _max(values: list[Any]) -> Any:
    best: Any = MISSING
    for v in _present(values):
        if best is MISSING or compare_values(v, best) > 0:
            best = v
    return None if best is MISSING else best


def _first(values: list[Any]) -> Any:
    if not values or values[0] is MISSING:
        return None
    return values[0]


def _last(values: list[Any]) -> Any:
    if not values or values[-1] is MISSING:
        return None
    return values[-1]


def _push(values: list[Any]) -> Any:
    return [v for v in values if v is not MISSING]


def _add_to_set(values: list[Any]) -> Any:
    seen: set = set()
    out = []
    for v in values:
        if v is MISSING:
            continue
        key = collated_key(v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _merge_objects(values: list[Any]) -> Any:
    out: dict[str, Any] = {}
    for v in values:
        if v is MISSING or v is None:
            continue
        if not isinstance(v, dict):
            raise err(
                40400,
                f"$mergeObjects requires object inputs, but input {v!r} is of type "
                f"{type(v).__name__}",
            )
        out.update(v)
    return out


def _floats(values: list[Any]) -> list[float]:
    out = []
    for v in values:
        if is_number(v):
            out.append(float(v.to_decimal()) if isinstance(v, Decimal128) else float(v))
    return out


def _std_pop(values: list[Any]) -> Any:
    xs = _floats(values)
    if not xs:
        return None
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))


def _std_samp(values: list[Any]) -> Any:
    xs = _floats(values)
    if len(xs) < 2:
        return None
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


_ACC = ACCUMULATOR_FUNCTIONS = {
    "$sum": _sum,
    "$avg": _avg,
    "$min": _min,
    "$max": _max,
    "$first": _first,
    "$last": _last,
    "$push": _push,
    "$addToSet": _add_to_set,
    "$mergeObjects": _merge_objects,
    "$stdDevPop": _std_pop,
    "$stdDevSamp": _std_samp,
}

"""Query filter matching (find/update/delete filters, $match, $pull conditions, arrayFilters).

Our own interpreter over compare.compare_values, because the library's matcher compares with
Python operators (True == 1, wrong type order). $expr is evaluated with the library's
aggregation expression evaluator (through _lib), GeoJSON predicates with its geo helpers.

Semantics follow the manual's query operator pages (reference/operator/query/*): a predicate on a
path matches if any value reached by the path (traversing arrays of documents) matches, and for
an array value also if any element matches; {f: null} matches null and missing fields.
"""

from __future__ import annotations

import operator
from typing import Any

from bson.binary import Binary
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.objectid import ObjectId

from ._lazy import lib as _lib
from .active_collation import ACTIVE as _COLLATION
from .compare import (
    MISSING,
    R_NULL,
    TYPE_ALIASES,
    bson_type_code,
    collated_key,
    compare_values,
    is_nan,
    is_number,
    type_rank,
)
from .errors import bad_value, err
from .paths import collect_values, get_path
from .regex import compile_regex, is_regex

_FAST_EQ_TYPES = (int, str, ObjectId, Int64)
_FAST_EQ_NOSTR = (int, ObjectId, Int64)  # strings compare through the collation, if any
_LOGICAL = ("$and", "$or", "$nor")
_FAST_CMP = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
    "$eq": operator.eq,
    "$ne": operator.ne,
}
_FAST_NUM = (int, float, Int64)
_FAST_CMP_TYPES = (int, float, Int64, str)


def matches(filt: Any, doc: dict[str, Any], variables: dict[str, Any] | None = None) -> bool:
    """True if ``doc`` satisfies the query filter ``filt``."""
    if type(filt) is not dict:
        if filt is None:
            return True
        if not isinstance(filt, dict):
            raise bad_value("the match filter must be an expression in an object")
    # Under a collation strings leave the fast paths (they compare by collation key).
    collated = _COLLATION.get() is not None
    for key, cond in filt.items():
        # Fast path: plain equality on a top-level field with a simple value.
        tc = type(cond)
        if (
            tc in _FAST_EQ_TYPES
            and "." not in key
            and key[:1] != "$"
            and not (collated and tc is str)
        ):
            v = doc.get(key, MISSING)
            tv = type(v)
            if tv is tc or (tv in (int, Int64) and tc in (int, Int64)):
                if v != cond:
                    return False
                continue
            if tv is not list and tv is not float and tv is not Decimal128:
                if tv is not bool and type_rank(v) != type_rank(cond):
                    return False
        elif tc is dict and len(cond) == 1 and "." not in key and key[:1] != "$":
            # Fast path: one comparison on a top-level field, same simple type on both sides.
            op, arg = next(iter(cond.items()))
            fn = _FAST_CMP.get(op)
            if fn is not None:
                ta = type(arg)
                if ta in _FAST_CMP_TYPES and arg == arg and not (collated and ta is str):
                    v = doc.get(key, MISSING)
                    tv = type(v)
                    if (tv is ta or (tv in _FAST_NUM and ta in _FAST_NUM)) and v == v:
                        if not fn(v, arg):
                            return False
                        continue
        if key[:1] == "$":
            if not _match_top_level(key, cond, doc, variables):
                return False
            continue
        if not _match_path(key, cond, doc, variables):
            return False
    return True


def _values(doc: Any, key: str) -> list[Any]:
    if "." not in key and isinstance(doc, dict):
        return [doc.get(key, MISSING)]
    return collect_values(doc, key.split("."))


def _is_operator_doc(cond: Any) -> bool:
    if type(cond) is not dict or not cond:
        return False
    first = next(iter(cond))
    return first[:1] == "$" and first not in ("$ref", "$id", "$db")


def _match_path(key: str, cond: Any, doc: Any, variables: dict[str, Any] | None) -> bool:
    if key == "":
        # MongoDB accepts empty field names in queries; nothing can be reached by them.
        pass
    values = _values(doc, key)
    if _is_operator_doc(cond):
        return _match_operators(cond, values, variables)
    if is_regex(cond):
        return _regex_any(values, compile_regex(cond), cond)
    return _eq_any(values, cond)


# ---------------------------------------------------------------------------- top level


def _match_top_level(key: str, cond: Any, doc: Any, variables: dict[str, Any] | None) -> bool:
    if key in _LOGICAL:
        if not isinstance(cond, list):
            raise bad_value(f"{key} must be an array")
        if not cond:
            raise bad_value("$and/$or/$nor must be a nonempty array")
        for sub in cond:
            if not isinstance(sub, dict):
                raise bad_value("$or/$and/$nor entries need to be full objects")
        if key == "$and":
            return all(matches(sub, doc, variables) for sub in cond)
        if key == "$or":
            return any(matches(sub, doc, variables) for sub in cond)
        return not any(matches(sub, doc, variables) for sub in cond)
    if key == "$expr":
        return truthy(_lib.eval_expression(cond, doc, variables))
    if key == "$comment":
        return True
    if key == "$text":
        raise err(27, "text index required for $text query")
    if key == "$where":
        raise bad_value("$where is not supported by this server (no JavaScript engine)")
    if key == "$jsonSchema":
        from .schema import matches_schema

        return matches_schema(cond, doc)
    if key in ("$alwaysTrue", "$alwaysFalse"):
        if cond != 1:
            raise bad_value(f"{key} must be an integer value of 1")
        return key == "$alwaysTrue"
    if key == "$sampleRate":
        raise bad_value("$sampleRate is not supported by this server")
    raise bad_value(f"unknown top level operator: {key}")


def truthy(value: Any) -> bool:
    """MongoDB's boolean conversion of a value (expressions, $exists, $cond ...)."""
    if value is None or value is MISSING or value is False:
        return False
    if _lib.is_missing_marker(value):
        return False
    if is_number(value):
        if isinstance(value, Decimal128):
            return value.to_decimal() != 0
        return value != 0
    return True


# ---------------------------------------------------------------------------- operators


def _match_operators(cond: dict[str, Any], values: list[Any], variables: Any) -> bool:
    if "$options" in cond and "$regex" not in cond:
        raise bad_value("$options needs a $regex")
    for op, arg in cond.items():
        if not _match_operator(op, arg, cond, values, variables):
            return False
    return True


def _match_operator(op: str, arg: Any, cond: dict, values: list[Any], variables: Any) -> bool:
    if op == "$eq":
        return _eq_any(values, arg)
    if op == "$ne":
        if is_regex(arg):
            raise bad_value("Can't have regex as arg to $ne.")
        return not _eq_any(values, arg)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return _cmp_any(values, arg, op)
    if op == "$in":
        return _in_any(values, arg, "$in")
    if op == "$nin":
        return not _in_any(values, arg, "$nin")
    if op == "$exists":
        want = truthy(arg)
        present = any(v is not MISSING for v in values)
        return present if want else not present
    if op == "$regex":
        options = cond.get("$options")
        if options is not None and not isinstance(options, str):
            raise bad_value("$options has to be a string")
        if not isinstance(arg, str) and not is_regex(arg):
            raise bad_value("$regex has to be a string")
        if options and is_regex(arg) and getattr(arg, "flags", 0):
            raise bad_value("options set in both $regex and $options")
        return _regex_any(values, compile_regex(arg, options), None)
    if op == "$options":
        return True
    if op == "$not":
        if is_regex(arg):
            return not _regex_any(values, compile_regex(arg), arg)
        if not isinstance(arg, dict):
            raise bad_value("$not needs a regex or a document")
        if not arg:
            raise bad_value("$not cannot be empty")
        if not _is_operator_doc(arg):
            raise bad_value(f"unknown operator: {next(iter(arg))}")
        return not _match_operators(arg, values, variables)
    if op == "$size":
        if not is_number(arg):
            raise bad_value("$size needs a number")
        n = float(arg.to_decimal()) if isinstance(arg, Decimal128) else arg
        if n != int(n):
            raise bad_value(f"$size must be a whole number, not {arg}")
        if n < 0:
            raise bad_value("$size may not be negative")
        return any(isinstance(v, list) and len(v) == n for v in values)
    if op == "$type":
        return _type_any(values, arg)
    if op == "$all":
        return _all(values, arg, variables)
    if op == "$elemMatch":
        if not isinstance(arg, dict):
            raise bad_value("$elemMatch needs an Object")
        return any(
            isinstance(v, list) and any(_elem_matches(e, arg, variables) for e in v) for v in values
        )
    if op == "$mod":
        return _mod_any(values, arg)
    if op in ("$bitsAllSet", "$bitsAllClear", "$bitsAnySet", "$bitsAnyClear"):
        return _bits_any(values, arg, op)
    if op in ("$geoWithin", "$within"):
        return any(_lib.geo_within(v, arg) for v in values if v is not MISSING)
    if op == "$geoIntersects":
        return any(_lib.geo_intersects(v, arg) for v in values if v is not MISSING)
    if op in ("$near", "$nearSphere", "$geoNear"):
        raise err(291, "error processing query: unable to find index for $geoNear query")
    if op == "$comment":
        return True
    if op[:1] != "$":
        raise bad_value(f"unknown operator: {op}")
    raise bad_value(f"unknown operator: {op}")


def _expand(values: list[Any]) -> list[Any]:
    """The values and, for arrays, their elements (one level), as predicates see them."""
    out: list[Any] = []
    for v in values:
        out.append(v)
        if type(v) is list:
            out.extend(v)
    return out


def _eq_one(v: Any, target: Any) -> bool:
    tv = type(v)
    if tv is type(target) and tv in _FAST_EQ_NOSTR:
        return v == target
    if v is MISSING:
        return target is None
    return compare_values(v, target) == 0


def _eq_any(values: list[Any], target: Any) -> bool:
    for v in values:
        if _eq_one(v, target):
            return True
        if type(v) is list:
            for e in v:
                if _eq_one(e, target):
                    return True
    return False


def _cmp_any(values: list[Any], target: Any, op: str) -> bool:
    if is_regex(target) and op in ("$gt", "$lt"):
        pass
    rank = type_rank(target)
    target_nan = is_nan(target)
    for v in _expand(values):
        if v is MISSING:
            v = None
        if type_rank(v) != rank:
            continue
        if target_nan or is_nan(v):
            if target_nan and is_nan(v) and op in ("$gte", "$lte"):
                return True
            continue
        c = compare_values(v, target)
        if (
            (op == "$gt" and c > 0)
            or (op == "$gte" and c >= 0)
            or (op == "$lt" and c < 0)
            or (op == "$lte" and c <= 0)
        ):
            return True
    if rank == R_NULL:
        return False
    return False


def _in_any(values: list[Any], arg: Any, op: str) -> bool:
    if not isinstance(arg, list):
        raise bad_value(f"{op} needs an array")
    for x in arg:
        if isinstance(x, dict) and _is_operator_doc(x):
            raise bad_value(f"cannot nest $ under {op}")
        if is_regex(x):
            if _regex_any(values, compile_regex(x), x):
                return True
        elif _eq_any(values, x):
            return True
    return False


def _regex_any(values: list[Any], pattern: Any, regex_value: Any) -> bool:
    for v in _expand(values):
        if isinstance(v, str):
            if pattern.search(v):
                return True
        elif regex_value is not None and is_regex(v):
            if compare_values(v, regex_value) == 0:
                return True
    return False


def _type_codes(arg: Any) -> set[int | str]:
    items = arg if isinstance(arg, list) else [arg]
    codes: set[int | str] = set()
    for item in items:
        if isinstance(item, str):
            if item == "number":
                codes.add("number")
            elif item in TYPE_ALIASES:
                codes.add(TYPE_ALIASES[item])
            else:
                raise bad_value(f"Unknown type name alias: {item}")
        elif is_number(item):
            n = float(item.to_decimal()) if isinstance(item, Decimal128) else item
            if n != int(n) or int(n) not in set(TYPE_ALIASES.values()):
                raise bad_value(f"Invalid numerical type code: {item}")
            codes.add(int(n))
        else:
            raise bad_value("type must be represented as a number or a string")
    return codes


def _type_any(values: list[Any], arg: Any) -> bool:
    codes = _type_codes(arg)
    for v in _expand(values):
        if v is MISSING:
            continue
        code = bson_type_code(v)
        if code in codes:
            return True
        if "number" in codes and code in (1, 16, 18, 19):
            return True
    return False


def _all(values: list[Any], arg: Any, variables: Any) -> bool:
    if not isinstance(arg, list):
        raise bad_value("$all needs an array")
    if not arg:
        return False
    # Many values: hash what the path holds once, rather than scanning it for each value
    # (quadratic for a long $all against a long array).
    keys = _equality_keys(values) if len(arg) > 8 else None
    for x in arg:
        if isinstance(x, dict) and "$elemMatch" in x:
            if not _match_operator("$elemMatch", x["$elemMatch"], x, values, variables):
                return False
        elif isinstance(x, dict) and _is_operator_doc(x):
            raise bad_value("no $ expressions in $all")
        elif is_regex(x):
            if not _regex_any(values, compile_regex(x), x):
                return False
        elif keys is not None:
            if collated_key(x) not in keys:
                return False
        elif not _eq_any(values, x):
            return False
    return True


def _equality_keys(values: list[Any]) -> set[Any]:
    """The keys (compare.collated_key: equal keys iff equal values) of everything _eq_any
    would find equal: each value, an array's elements, null for a missing field."""
    keys: set[Any] = set()
    for v in values:
        if v is MISSING:
            keys.add(collated_key(None))
            continue
        keys.add(collated_key(v))
        if type(v) is list:
            keys.update(collated_key(e) for e in v)
    return keys


def _elem_matches(elem: Any, query: dict[str, Any], variables: Any) -> bool:
    if _is_operator_doc(query) and next(iter(query)) not in (*_LOGICAL, "$expr"):
        # Value form: {$elemMatch: {$gte: 80, $lt: 85}} applies to the element itself.
        return _match_operators(query, [elem], variables)
    if not isinstance(elem, dict):
        return False
    return matches(query, elem, variables)


def _mod_any(values: list[Any], arg: Any) -> bool:
    if not isinstance(arg, list):
        raise bad_value("malformed mod, needs to be an array")
    if len(arg) < 2:
        raise bad_value("malformed mod, not enough elements")
    if len(arg) > 2:
        raise bad_value("malformed mod, too many elements")
    if not is_number(arg[0]) or not is_number(arg[1]):
        raise bad_value("malformed mod, divisor and remainder not numbers")
    divisor = _to_int(arg[0])
    remainder = _to_int(arg[1])
    if divisor is None or remainder is None:
        raise bad_value("malformed mod, divisor value is invalid")
    if divisor == 0:
        raise bad_value("divisor cannot be 0")
    for v in _expand(values):
        if is_number(v):
            n = _to_int(v)
            if n is None:
                continue
            # C++ % truncates toward zero.
            r = abs(n) % abs(divisor)
            if n < 0:
                r = -r
            if r == remainder:
                return True
    return False


def _to_int(value: Any) -> int | None:
    if isinstance(value, Decimal128):
        d = value.to_decimal()
        if d.is_nan() or d.is_infinite():
            return None
        return int(d)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return int(value)
    return int(value)


def _bits_any(values: list[Any], arg: Any, op: str) -> bool:
    if isinstance(arg, list):
        positions = []
        for p in arg:
            if not is_number(p) or _to_int(p) is None or _to_int(p) < 0:
                raise bad_value(f"bit positions must be non-negative integers, got {p!r}")
            positions.append(_to_int(p))
        mask = 0
        for p in positions:
            mask |= 1 << p
    elif is_number(arg):
        mask = _to_int(arg)
        if mask is None or mask < 0 or (isinstance(arg, float) and arg != int(arg)):
            raise bad_value(f"{op} takes a non-negative integer bitmask, got {arg!r}")
    elif isinstance(arg, (bytes, Binary)):
        mask = int.from_bytes(bytes(arg), "little")
    else:
        raise bad_value(f"{op} takes an Array, a number, or a BinData but received: {arg!r}")
    for v in values:
        if is_number(v):
            if isinstance(v, float) and (v != v or v != int(v)):
                continue
            n = _to_int(v)
            if n is None:
                continue
        elif isinstance(v, (bytes, Binary)):
            n = int.from_bytes(bytes(v), "little")
        else:
            continue
        if op == "$bitsAllSet" and n & mask == mask:
            return True
        if op == "$bitsAllClear" and n & mask == 0:
            return True
        if op == "$bitsAnySet" and n & mask != 0:
            return True
        if op == "$bitsAnyClear" and n & mask != mask:
            return True
    return False


def value_matches(cond: dict[str, Any], value: Any) -> bool:
    """Apply an operator document ({$gte: 6, $lt: 9}) to a bare value ($pull, $elemMatch)."""
    return _match_operators(cond, [value], None)


def positional_index(doc: dict[str, Any], array_path: str, query: dict[str, Any] | None) -> int:
    """Index of the first element of the array at ``array_path`` that satisfies the query's
    conditions on that array (the positional ``$`` of updates and projections).

    Raises ValueError when there is no such element."""

    arr = get_path(doc, array_path)
    if not query or not isinstance(arr, list):
        raise ValueError("no positional match")
    relevant = _relevant_query(query, array_path)
    if not relevant:
        raise ValueError("no positional match")
    parts = array_path.split(".")
    for idx, elem in enumerate(arr):
        probe = _replace_at(doc, parts, [elem])
        if all(matches(q, probe) for q in relevant):
            return idx
    raise ValueError("no positional match")


def _relevant_query(query: dict[str, Any], array_path: str) -> list[dict[str, Any]]:
    out = []
    for k, v in query.items():
        if k == "$and" and isinstance(v, list):
            for sub in v:
                if isinstance(sub, dict):
                    out.extend(_relevant_query(sub, array_path))
        elif k == array_path or k.startswith(array_path + "."):
            out.append({k: v})
    return out


def _replace_at(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    if isinstance(doc, dict):
        new = dict(doc)
        new[parts[0]] = _replace_at(doc.get(parts[0]), parts[1:], value)
        return new
    if isinstance(doc, list) and parts[0].isdigit() and int(parts[0]) < len(doc):
        new_list = list(doc)
        new_list[int(parts[0])] = _replace_at(doc[int(parts[0])], parts[1:], value)
        return new_list
    return doc

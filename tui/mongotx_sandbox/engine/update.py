"""Update operator documents, replacements and upsert seeds.

Our own implementation (the library's update code is tied to its collection store and loses
numeric types). Behaviour and messages follow the manual's update operator pages
(reference/operator/update/*) and the server's error codes:
- 9 FailedToParse: unknown modifier, operand not an object, bad $pop value, unused arrayFilter
- 14 TypeMismatch: $inc/$mul with or on non-numbers, $pop on non-array
- 28 PathNotViable: cannot create a field inside a scalar or an array
- 40 ConflictingUpdateOperators: two operations on the same or overlapping paths
- 66 ImmutableField: _id changed
- 2 BadValue: the rest ($push on non-array, $rename misuse, positional operator without match...)
Since MongoDB 5.0 update operators apply fields in lexicographic order (numeric names in numeric
order) and an empty operand such as {$set: {}} is accepted (manual: "Update Operators",
"Behavior").
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

from bson.int64 import Int64

from . import numeric
from .compare import MISSING, compare_values, is_number, type_name
from .errors import bad_value, err
from .expression_names import check_expression
from .fmt import shell
from .match import matches, positional_index, value_matches
from .paths import deep_copy, set_path
from .times import now_datetime, now_timestamp

OPERATORS = (
    "$set",
    "$unset",
    "$inc",
    "$mul",
    "$min",
    "$max",
    "$rename",
    "$push",
    "$addToSet",
    "$pull",
    "$pullAll",
    "$pop",
    "$currentDate",
    "$setOnInsert",
    "$bit",
)
PIPELINE_UPDATE_STAGES = (
    "$addFields",
    "$set",
    "$project",
    "$unset",
    "$replaceRoot",
    "$replaceWith",
)
_IDENT_RE = re.compile(r"^[a-z][a-zA-Z0-9]*$")


# ------------------------------------------------------------------------------ entry points


def apply_update(
    doc: dict[str, Any],
    update: dict[str, Any] | list[dict[str, Any]],
    *,
    array_filters: list[dict[str, Any]] | None = None,
    query: dict[str, Any] | None = None,
    is_upsert_insert: bool = False,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if isinstance(update, list):
        if array_filters:
            # Server: "arrayFilters may not be specified for pipeline-style updates" (code 72)
            raise err(72, "arrayFilters may not be specified for pipeline-style updates")
        return _apply_pipeline(doc, update, variables, is_upsert_insert)
    if not isinstance(update, dict):
        raise err(9, "Update argument must be either an object or an array")
    if not update or next(iter(update))[:1] != "$":
        # A document without operators is a replacement (update command's `u: {...}`).
        return apply_replacement(doc, update)
    ops, filters = _parse_operators(update, array_filters)
    new = deep_copy(doc)
    old_id = doc.get("_id", MISSING)
    ctx = _Ctx(new, query, filters, is_upsert_insert, doc)
    for op, path, arg in sorted(ops, key=lambda t: _path_sort_key(t[1])):
        if op == "$setOnInsert" and not is_upsert_insert:
            continue
        _APPLY[op](ctx, path, arg)
    _check_id(old_id, new, is_upsert_insert)
    if is_upsert_insert and "_id" in new:
        new = _id_first(new)
    return new


def parse_update(
    update: dict[str, Any] | list[dict[str, Any]],
    array_filters: list[dict[str, Any]] | None = None,
) -> None:
    """Refuse a malformed update before any document is read: mongod parses the update
    (operators, arrayFilters, pipeline stages) when it builds the update plan, so an unknown
    modifier fails with 9 even when nothing matches (server: db/update/update_driver.cpp
    UpdateDriver::parse, called from db/ops/parsed_update.cpp ParsedUpdate::parseUpdate)."""
    if isinstance(update, list):
        if array_filters:
            raise err(72, "arrayFilters may not be specified for pipeline-style updates")
        _check_pipeline_stages(update)
        return
    if not isinstance(update, dict):
        raise err(9, "Update argument must be either an object or an array")
    if update and next(iter(update))[:1] == "$":
        _parse_operators(update, array_filters)
    else:
        _parse_array_filters(array_filters)


def _parse_operators(
    update: dict[str, Any], array_filters: list[dict[str, Any]] | None
) -> tuple[list[tuple[str, str, Any]], dict[str, dict]]:
    """The (operator, path, argument) list and the array filters by identifier."""
    ops = _parse(update)
    filters = _parse_array_filters(array_filters)
    _check_conflicts(ops)
    used_ids: set[str] = set()
    for _op, path, _arg in ops:
        for ident in _identifiers(path):
            if ident not in filters:
                raise bad_value(f"No array filter found for identifier '{ident}' in path '{path}'")
            used_ids.add(ident)
    for ident in filters:
        if ident not in used_ids:
            raise err(
                9,
                f"The array filter for identifier '{ident}' was not used in the update "
                f"{shell(update)}",
            )
    return ops, filters


def apply_replacement(doc: dict[str, Any], replacement: dict[str, Any]) -> dict[str, Any]:
    """Replace ``doc`` by ``replacement``, keeping ``_id`` first and unchanged."""
    if not isinstance(replacement, dict):
        raise err(9, "Update argument must be either an object or an array")
    for key in replacement:
        if key[:1] == "$":
            # Server: replacement documents may not have top-level $-prefixed fields.
            # (manual: "Field Names with Periods and Dollar Signs" -> use $replaceWith instead)
            raise err(
                52,
                f"The dollar ($) prefixed field '{key}' in '{key}' is not allowed in the context "
                "of an update's replacement document. Consider using an aggregation pipeline "
                "with $replaceWith.",
            )
    old_id = doc.get("_id", MISSING)
    new_id = replacement.get("_id", MISSING)
    if old_id is not MISSING and new_id is not MISSING and compare_values(old_id, new_id) != 0:
        raise err(
            66,
            "After applying the update, the (immutable) field '_id' was found to have been "
            f"altered to _id: {shell(new_id)}",
        )
    out: dict[str, Any] = {}
    if old_id is not MISSING:
        out["_id"] = deep_copy(old_id)
    elif new_id is not MISSING:
        out["_id"] = deep_copy(new_id)
    for k, v in replacement.items():
        if k != "_id":
            out[k] = deep_copy(v)
    return out


def upsert_seed(query: dict[str, Any] | None) -> dict[str, Any]:
    """The document an upsert starts from: the query's equality conditions, dotted paths
    expanded (manual: update "upsert" behaviour / "Upsert with Dotted _id Query")."""
    seed: dict[str, Any] = {}
    if not query:
        return seed
    if not isinstance(query, dict):
        raise bad_value("the query must be an object")
    seen: dict[str, Any] = {}
    _collect_equalities(query, seen)
    # _id first, like the server's insert path.
    paths = sorted(seen, key=lambda p: 0 if p.split(".")[0] == "_id" else 1)
    for path in paths:
        parts = path.split(".")
        set_path(seed, parts, deep_copy(seen[path]), path)
    return seed


# ------------------------------------------------------------------------------ parsing


def _parse(update: dict[str, Any]) -> list[tuple[str, str, Any]]:
    ops: list[tuple[str, str, Any]] = []
    for op, fields in update.items():
        if op not in OPERATORS:
            raise err(
                9,
                f"Unknown modifier: {op}. Expected a valid update modifier or pipeline-style "
                "update specified as an array",
            )
        if not isinstance(fields, dict):
            raise err(
                9,
                f"Modifiers operate on fields but we found type {type_name(fields)} instead. "
                f"For example: {{$mod: {{<field>: ...}}}} not {{{op}: {shell(fields)}}}",
            )
        for path, arg in fields.items():
            _validate_path(path, op)
            _validate_arg(op, path, arg)
            ops.append((op, path, arg))
    return ops


def _validate_path(path: str, op: str) -> None:
    if path == "":
        raise err(56, "An empty update path is not valid.")
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part == "":
            raise err(
                56,
                f"The update path '{path}' contains an empty field name, which is not allowed.",
            )
        if part[:1] == "$" and not (part == "$" or (part.startswith("$[") and part.endswith("]"))):
            if i == 0 and op not in ("$unset", "$rename"):
                raise err(
                    52,
                    f"The dollar ($) prefixed field '{part}' in '{path}' is not valid for storage.",
                )


def _validate_arg(op: str, path: str, arg: Any) -> None:
    if op == "$inc" and not is_number(arg):
        raise err(14, f"Cannot increment with non-numeric argument: {{{path}: {shell(arg)}}}")
    if op == "$mul" and not is_number(arg):
        raise err(14, f"Cannot multiply with non-numeric argument: {{{path}: {shell(arg)}}}")
    if op == "$pop":
        if not is_number(arg) or (compare_values(arg, 1) != 0 and compare_values(arg, -1) != 0):
            raise err(9, f"$pop expects 1 or -1, found: {shell(arg)}")
    if op == "$rename":
        if not isinstance(arg, str):
            raise bad_value(f"The 'to' field for $rename must be a string: {path}: {shell(arg)}")
        if "$" in path:
            raise bad_value(f"The source field for $rename may not be dynamic: {path}")
        if "$" in arg:
            raise bad_value(f"The destination field for $rename may not be dynamic: {arg}")
        if arg == "":
            raise bad_value("The update path '' contains an empty field name.")
        if arg == path:
            raise bad_value(f"The source and target field for $rename must differ: {path}: {arg}")
        if arg.startswith(path + ".") or path.startswith(arg + "."):
            raise bad_value(
                f"The source and target field for $rename must not be on the same path: "
                f"{path}: {arg}"
            )
    if op == "$pullAll" and not isinstance(arg, list):
        raise bad_value(f"$pullAll requires an array argument but was given a {type_name(arg)}")
    if op == "$currentDate":
        if isinstance(arg, dict):
            if set(arg) != {"$type"} or arg["$type"] not in ("date", "timestamp"):
                raise bad_value(
                    "The '$type' string field is required to be 'date' or 'timestamp': "
                    "{$currentDate: {field : {$type: 'date'}}}"
                )
        elif not isinstance(arg, bool):
            raise bad_value(
                f"{type_name(arg)} is not valid type for $currentDate. Please use "
                "a boolean ('true') or a $type expression ({$type: 'timestamp/date'})."
            )
    if op == "$bit":
        if not isinstance(arg, dict) or not arg:
            raise bad_value(
                f"The $bit modifier is not compatible with a {type_name(arg)}. You "
                "must pass in an embedded document: {$bit: {field: {and/or/xor: #}}"
            )
        for k, v in arg.items():
            if k not in ("and", "or", "xor"):
                raise bad_value(
                    f"The $bit modifier only supports 'and', 'or', and 'xor', not "
                    f"'{k}' which is an unknown operator: {{{k}: {shell(v)}}}"
                )
            if isinstance(v, bool) or not isinstance(v, int):
                raise bad_value(
                    f"The $bit modifier field must be an Integer(32/64 bit); a "
                    f"'{type_name(v)}' is not supported here: {{{k}: {shell(v)}}}"
                )


def _parse_array_filters(array_filters: list[dict[str, Any]] | None) -> dict[str, dict]:
    filters: dict[str, dict] = {}
    if array_filters is None:
        return filters
    if not isinstance(array_filters, list):
        raise err(14, "arrayFilters must be an array")
    for f in array_filters:
        if not isinstance(f, dict):
            raise err(14, "arrayFilters entries must be objects")
        if not f:
            raise err(9, "Cannot use an expression without a top-level field name in arrayFilters")
        ident: str | None = None
        for key in _filter_top_fields(f):
            top = key.split(".")[0]
            if ident is None:
                ident = top
            elif ident != top:
                raise err(
                    9,
                    "Error parsing array filter :: caused by :: Expected a single top-level "
                    f"field name, found '{ident}' and '{top}'",
                )
        if ident is None:
            raise err(9, "Cannot use an expression without a top-level field name in arrayFilters")
        if not _IDENT_RE.match(ident):
            raise bad_value(
                "Error parsing array filter :: caused by :: The top-level field name must be an "
                f"alphanumeric string beginning with a lowercase letter, found '{ident}'"
            )
        if ident in filters:
            raise err(9, f"Found multiple array filters with the same top-level field name {ident}")
        filters[ident] = f
    return filters


def _filter_top_fields(f: dict[str, Any]) -> list[str]:
    keys = []
    for k, v in f.items():
        if k in ("$and", "$or", "$nor") and isinstance(v, list):
            for sub in v:
                if isinstance(sub, dict):
                    keys.extend(_filter_top_fields(sub))
        elif k[:1] != "$":
            keys.append(k)
    return keys


def _identifiers(path: str) -> list[str]:
    return [
        p[2:-1] for p in path.split(".") if p.startswith("$[") and p.endswith("]") and p != "$[]"
    ]


def _check_conflicts(ops: list[tuple[str, str, Any]]) -> None:
    targets: list[tuple[list[str], str]] = []
    for op, path, arg in ops:
        targets.append((path.split("."), path))
        if op == "$rename":
            targets.append((arg.split("."), arg))
    targets.sort(key=lambda t: t[0])
    for (pa, _a), (pb, b) in itertools.pairwise(targets):
        n = min(len(pa), len(pb))
        if pa[:n] == pb[:n]:
            raise err(
                40,
                f"Updating the path '{b}' would create a conflict at '{'.'.join(pa[:n])}'",
            )


def _path_sort_key(path: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.split("."))


# ------------------------------------------------------------------------------ context


class _Ctx:
    def __init__(self, doc, query, filters, is_upsert_insert, original) -> None:
        self.doc = doc
        self.query = query
        self.filters = filters
        self.is_upsert_insert = is_upsert_insert
        self.original = original

    def expand(self, path: str) -> list[list[str]]:
        """Concrete paths for a path with positional parts ($, $[], $[id])."""
        parts = path.split(".")
        if not any(p[:1] == "$" for p in parts):
            return [parts]
        out: list[list[str]] = []
        self._expand(self.doc, parts, 0, [], out, path)
        return out

    def _expand(self, cur, parts, i, prefix, out, path) -> None:
        if i == len(parts):
            out.append(prefix)
            return
        part = parts[i]
        if part == "$":
            idx = self._positional_index(".".join(prefix))
            self._expand(_child(cur, str(idx)), parts, i + 1, [*prefix, str(idx)], out, path)
            return
        if part.startswith("$[") and part.endswith("]"):
            if cur is MISSING:
                raise bad_value(
                    f"The path '{'.'.join(prefix)}' must exist in the document in order to "
                    "apply array updates."
                )
            if not isinstance(cur, list):
                raise bad_value(
                    f"Cannot apply array updates to non-array element {prefix[-1]}: {shell(cur)}"
                )
            ident = part[2:-1]
            for idx, elem in enumerate(cur):
                if ident and not _array_filter_matches(self.filters[ident], ident, elem):
                    continue
                self._expand(elem, parts, i + 1, [*prefix, str(idx)], out, path)
            return
        self._expand(_child(cur, part), parts, i + 1, [*prefix, part], out, path)

    def _positional_index(self, array_path: str) -> int:
        try:
            return positional_index(self.original, array_path, self.query)
        except ValueError:
            raise bad_value(
                "The positional operator did not find the match needed from the query."
            ) from None


def _array_filter_matches(f: dict[str, Any], ident: str, elem: Any) -> bool:
    return matches(_rename_filter(f, ident), {"\x00": elem})


def _rename_filter(f: dict[str, Any], ident: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in f.items():
        if k in ("$and", "$or", "$nor") and isinstance(v, list):
            out[k] = [_rename_filter(sub, ident) if isinstance(sub, dict) else sub for sub in v]
        elif k == ident:
            out["\x00"] = v
        elif k.startswith(ident + "."):
            out["\x00" + k[len(ident) :]] = v
        else:
            out[k] = v
    return out


# ------------------------------------------------------------------------------ path helpers


def _child(cur: Any, part: str) -> Any:
    if isinstance(cur, dict):
        return cur.get(part, MISSING)
    if isinstance(cur, list) and part.isdigit():
        idx = int(part)
        return cur[idx] if idx < len(cur) else MISSING
    return MISSING


def _get(doc: Any, parts: list[str]) -> Any:
    cur = doc
    for part in parts:
        cur = _child(cur, part)
        if cur is MISSING:
            return MISSING
    return cur


def _unset_path(doc: dict[str, Any], parts: list[str]) -> None:
    parent = _get(doc, parts[:-1]) if len(parts) > 1 else doc
    last = parts[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        # $unset of an array element sets it to null (manual: $unset "Behavior").
        parent[int(last)] = None


# ------------------------------------------------------------------------------ operators


def _op_set(ctx: _Ctx, path: str, arg: Any) -> None:
    for parts in ctx.expand(path):
        set_path(ctx.doc, parts, deep_copy(arg), path)


def _op_unset(ctx: _Ctx, path: str, arg: Any) -> None:
    for parts in ctx.expand(path):
        _unset_path(ctx.doc, parts)


def _doc_id_text(ctx: _Ctx) -> str:
    return f"{{_id: {shell(ctx.doc['_id'])}}}" if "_id" in ctx.doc else "{}"


def _arith(ctx: _Ctx, path: str, arg: Any, op: str) -> None:
    for parts in ctx.expand(path):
        cur = _get(ctx.doc, parts)
        if cur is MISSING:
            value = arg if op == "$inc" else numeric.zero_like(arg)
        else:
            if not is_number(cur):
                raise err(
                    14,
                    f"Cannot apply {op} to a value of non-numeric type. {_doc_id_text(ctx)} has "
                    f"the field '{parts[-1]}' of non-numeric type {type_name(cur)}",
                )
            value = numeric.add(cur, arg) if op == "$inc" else numeric.multiply(cur, arg)
        set_path(ctx.doc, parts, value, path)


def _op_minmax(ctx: _Ctx, path: str, arg: Any, sign: int) -> None:
    for parts in ctx.expand(path):
        cur = _get(ctx.doc, parts)
        if cur is MISSING or compare_values(arg, cur) == sign:
            set_path(ctx.doc, parts, deep_copy(arg), path)


def _op_rename(ctx: _Ctx, path: str, arg: Any) -> None:
    src = path.split(".")
    dst = arg.split(".")
    for parts, what in ((src, "source"), (dst, "destination")):
        cur: Any = ctx.doc
        for part in parts[:-1]:
            cur = _child(cur, part) if isinstance(cur, dict) else MISSING
            if isinstance(cur, list):
                raise bad_value(
                    f"The {what} field cannot be an array element, '{'.'.join(parts)}' in doc "
                    f"with {part} being an array"
                )
            if cur is MISSING:
                break
    value = _get(ctx.doc, src)
    if value is MISSING:
        return
    _unset_path(ctx.doc, src)
    set_path(ctx.doc, dst, value, arg)


def _array_at(ctx: _Ctx, parts: list[str], op: str) -> Any:
    cur = _get(ctx.doc, parts)
    if cur is not MISSING and not isinstance(cur, list):
        if op == "$addToSet":
            raise bad_value(
                f"Cannot apply $addToSet to non-array field. Field named '{parts[-1]}' has "
                f"non-array type {type_name(cur)}"
            )
        raise bad_value(
            f"The field '{'.'.join(parts)}' must be an array but is of type {type_name(cur)} "
            f"in document {_doc_id_text(ctx)}"
        )
    return cur


def _op_push(ctx: _Ctx, path: str, arg: Any) -> None:
    each = [arg]
    position = slice_ = sort = None
    if isinstance(arg, dict) and "$each" in arg:
        for k in arg:
            if k not in ("$each", "$slice", "$sort", "$position"):
                raise bad_value(f"Unrecognized clause in $push: {k}")
        each = arg["$each"]
        if not isinstance(each, list):
            raise bad_value(
                f"The argument to $each in $push must be an array but it was of type: "
                f"{type_name(each)}"
            )
        if "$slice" in arg:
            slice_ = _int_arg(arg["$slice"], "$slice")
        if "$position" in arg:
            position = _int_arg(arg["$position"], "$position")
        if "$sort" in arg:
            sort = arg["$sort"]
            _validate_push_sort(sort)
    for parts in ctx.expand(path):
        cur = _array_at(ctx, parts, "$push")
        arr = [] if cur is MISSING else cur
        items = [deep_copy(v) for v in each]
        if position is None:
            arr.extend(items)
        else:
            pos = position if position >= 0 else max(0, len(arr) + position)
            arr[pos:pos] = items
        if sort is not None:
            arr.sort(key=_push_sort_key(sort))
        if slice_ is not None:
            if slice_ >= 0:
                del arr[slice_:]
            else:
                del arr[: max(0, len(arr) + slice_)]
        if cur is MISSING:
            set_path(ctx.doc, parts, arr, path)


def _int_arg(value: Any, name: str) -> int:
    if not is_number(value) or (isinstance(value, float) and value != int(value)):
        raise bad_value(
            f"The value for {name} must be an integer value but was given type: {type_name(value)}"
        )
    return int(value) if not hasattr(value, "to_decimal") else int(value.to_decimal())


def _validate_push_sort(sort: Any) -> None:
    if isinstance(sort, dict):
        if not sort:
            raise bad_value("The $sort pattern is empty when it should be a set of fields.")
        for v in sort.values():
            if not is_number(v) or (compare_values(v, 1) != 0 and compare_values(v, -1) != 0):
                raise bad_value("The $sort element value must be either 1 or -1")
    elif not is_number(sort) or (compare_values(sort, 1) != 0 and compare_values(sort, -1) != 0):
        raise bad_value(
            "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1}"
            " to sort embedded fields"
        )


def _push_sort_key(sort: Any) -> Any:
    if isinstance(sort, dict):
        from .sort import document_sort_key_function

        return document_sort_key_function(sort)
    direction = 1 if compare_values(sort, 1) == 0 else -1
    return functools.cmp_to_key(lambda a, b: direction * compare_values(a, b))


def _op_add_to_set(ctx: _Ctx, path: str, arg: Any) -> None:
    each = [arg]
    if isinstance(arg, dict) and "$each" in arg:
        if len(arg) > 1:
            raise bad_value(f"Found unexpected fields after $each in $addToSet: {shell(arg)}")
        each = arg["$each"]
        if not isinstance(each, list):
            raise bad_value(
                f"The argument to $each in $addToSet must be an array but it was of type "
                f"{type_name(each)}"
            )
    for parts in ctx.expand(path):
        cur = _array_at(ctx, parts, "$addToSet")
        arr = [] if cur is MISSING else cur
        for v in each:
            if not any(compare_values(v, e) == 0 for e in arr):
                arr.append(deep_copy(v))
        if cur is MISSING:
            set_path(ctx.doc, parts, arr, path)


def _pull_matcher(cond: Any) -> Any:
    if isinstance(cond, dict):
        first = next(iter(cond), "")
        if first[:1] == "$" and first not in ("$and", "$or", "$nor", "$expr"):
            return lambda e: value_matches(cond, e)
        return lambda e: isinstance(e, dict) and matches(cond, e)
    from .regex import compile_regex, is_regex

    if is_regex(cond):
        pattern = compile_regex(cond)
        return lambda e: (
            (isinstance(e, str) and bool(pattern.search(e)))
            or (is_regex(e) and compare_values(e, cond) == 0)
        )
    return lambda e: compare_values(e, cond) == 0


def _op_pull(ctx: _Ctx, path: str, arg: Any) -> None:
    pred = _pull_matcher(arg)
    _pull_where(ctx, path, pred)


def _op_pull_all(ctx: _Ctx, path: str, arg: Any) -> None:
    _pull_where(ctx, path, lambda e: any(compare_values(e, v) == 0 for v in arg))


def _pull_where(ctx: _Ctx, path: str, pred: Any) -> None:
    for parts in ctx.expand(path):
        cur = _get(ctx.doc, parts)
        if cur is MISSING:
            continue
        if not isinstance(cur, list):
            raise bad_value("Cannot apply $pull to a non-array value")
        cur[:] = [e for e in cur if not pred(e)]


def _op_pop(ctx: _Ctx, path: str, arg: Any) -> None:
    for parts in ctx.expand(path):
        cur = _get(ctx.doc, parts)
        if cur is MISSING:
            continue
        if not isinstance(cur, list):
            raise err(
                14,
                f"Path '{'.'.join(parts)}' contains an element of non-array type "
                f"'{type_name(cur)}'",
            )
        if cur:
            if compare_values(arg, 1) == 0:
                cur.pop()
            else:
                cur.pop(0)


def _op_current_date(ctx: _Ctx, path: str, arg: Any) -> None:
    use_ts = isinstance(arg, dict) and arg.get("$type") == "timestamp"
    for parts in ctx.expand(path):
        set_path(ctx.doc, parts, now_timestamp() if use_ts else now_datetime(), path)


def _op_bit(ctx: _Ctx, path: str, arg: Any) -> None:
    for parts in ctx.expand(path):
        cur = _get(ctx.doc, parts)
        if cur is MISSING:
            cur = 0
        elif isinstance(cur, bool) or not isinstance(cur, int):
            raise bad_value(
                f"Cannot apply $bit to a value of non-integral type.{_doc_id_text(ctx)} has the "
                f"field {parts[-1]} of non-integer type {type_name(cur)}"
            )
        is_long = isinstance(cur, Int64)
        value = int(cur)
        for k, v in arg.items():
            is_long = is_long or isinstance(v, Int64) or numeric.kind(v) == numeric.K_LONG
            if k == "and":
                value &= int(v)
            elif k == "or":
                value |= int(v)
            else:
                value ^= int(v)
        set_path(ctx.doc, parts, Int64(value) if is_long else value, path)


_APPLY = {
    "$set": _op_set,
    "$setOnInsert": _op_set,
    "$unset": _op_unset,
    "$inc": lambda c, p, a: _arith(c, p, a, "$inc"),
    "$mul": lambda c, p, a: _arith(c, p, a, "$mul"),
    "$min": lambda c, p, a: _op_minmax(c, p, a, -1),
    "$max": lambda c, p, a: _op_minmax(c, p, a, 1),
    "$rename": _op_rename,
    "$push": _op_push,
    "$addToSet": _op_add_to_set,
    "$pull": _op_pull,
    "$pullAll": _op_pull_all,
    "$pop": _op_pop,
    "$currentDate": _op_current_date,
    "$bit": _op_bit,
}


# ------------------------------------------------------------------------------ _id checks


def _check_id(old_id: Any, new: dict[str, Any], is_upsert_insert: bool) -> None:
    if old_id is MISSING:
        return
    new_id = new.get("_id", MISSING)
    if new_id is MISSING or compare_values(old_id, new_id) != 0:
        raise err(
            66, "Performing an update on the path '_id' would modify the immutable field '_id'"
        )


def _id_first(doc: dict[str, Any]) -> dict[str, Any]:
    if next(iter(doc)) == "_id":
        return doc
    out = {"_id": doc["_id"]}
    out.update((k, v) for k, v in doc.items() if k != "_id")
    return out


# ------------------------------------------------------------------------------ pipeline


def _apply_pipeline(
    doc: dict[str, Any],
    pipeline: list[dict[str, Any]],
    variables: dict[str, Any] | None,
    is_upsert_insert: bool,
) -> dict[str, Any]:
    from .aggregate import base_variables, run_with_variables

    _check_pipeline_stages(pipeline)
    out = run_with_variables([doc], pipeline, variables or base_variables(None))
    if len(out) != 1:  # pragma: no cover - these stages are one-to-one
        raise err(1, "update pipeline did not produce exactly one document")
    new = out[0]
    old_id = doc.get("_id", MISSING)
    if old_id is not MISSING:
        if "_id" not in new:
            new = {"_id": deep_copy(old_id), **new}
        _check_id(old_id, new, is_upsert_insert)
    if "_id" in new:
        new = _id_first(new)
    return new


def _check_pipeline_stages(pipeline: list[Any]) -> None:
    """Each stage parses as one (40323, 40324 for an unknown name, the stage's own code for a
    spec of the wrong type), then must be one an update allows (72) [server:
    db/update/pipeline_executor.cpp PipelineExecutor, Pipeline::parse; the stages'
    createFromBson: document_source_add_fields.cpp 40272, document_source_project.cpp
    15969 and 31002 for $unset]."""
    from .aggregate import known_stage

    for stage in pipeline:
        if not isinstance(stage, dict) or len(stage) != 1:
            raise err(
                40323, "A pipeline stage specification object must contain exactly one field."
            )
        name, spec = next(iter(stage.items()))
        if not known_stage(name):
            raise err(40324, f"Unrecognized pipeline stage name: '{name}'")
        if name in ("$set", "$addFields") and not isinstance(spec, dict):
            raise err(40272, f"{name} specification stage must be an object, got {type_name(spec)}")
        if name == "$project" and not isinstance(spec, dict):
            raise err(15969, "$project specification must be an object")
        if name == "$unset" and not isinstance(spec, str | list):
            raise err(31002, "$unset specification must be a string or an array")
        if name not in PIPELINE_UPDATE_STAGES:
            # Server: "$match is not allowed to be used within an update" (code 72)
            raise err(72, f"{name} is not allowed to be used within an update")
        if name != "$unset":
            # Expressions are parsed with their stage: an unknown operator is 168 even when
            # no document is updated [srv:db/pipeline/expression.cpp Expression::parseExpression].
            check_expression(spec, name)


# ------------------------------------------------------------------------------ upsert seed


def _collect_equalities(query: dict[str, Any], seen: dict[str, Any]) -> None:
    for key, cond in query.items():
        if key == "$and" and isinstance(cond, list):
            for sub in cond:
                if isinstance(sub, dict):
                    _collect_equalities(sub, seen)
            continue
        if key == "$or" and isinstance(cond, list) and len(cond) == 1 and isinstance(cond[0], dict):
            _collect_equalities(cond[0], seen)
            continue
        if key[:1] == "$":
            continue
        value: Any = MISSING
        if (
            isinstance(cond, dict)
            and cond
            and next(iter(cond))[:1] == "$"
            and next(iter(cond)) not in ("$ref", "$id", "$db")
        ):
            if "$eq" in cond:
                value = cond["$eq"]
            elif "$in" in cond and isinstance(cond["$in"], list) and len(cond["$in"]) == 1:
                value = cond["$in"][0]
            elif "$all" in cond and isinstance(cond["$all"], list) and len(cond["$all"]) == 1:
                value = cond["$all"][0]
        else:
            from .regex import is_regex

            if not is_regex(cond):
                value = cond
        if value is MISSING:
            continue
        from .regex import is_regex

        if is_regex(value):
            continue
        if key in seen and compare_values(seen[key], value) != 0:
            raise err(54, f"cannot infer query fields to set, path '{key}' is matched twice")
        for other in seen:
            if other != key and (other.startswith(key + ".") or key.startswith(other + ".")):
                raise err(
                    54,
                    f"cannot infer query fields to set, both paths '{key}' and '{other}' are "
                    "matched",
                )
        seen[key] = value

"""Aggregation pipelines: our stage driver, library expressions.

Stages implemented here (manual, reference/operator/aggregation-pipeline/*): $match $project
$addFields/$set $unset $group $sort $limit $skip $count $unwind $lookup $graphLookup
$unionWith $replaceRoot $replaceWith $sortByCount $facet $bucket $sample $documents.
Stages delegated to mongomock-ng through _lib: $redact $setWindowFields $fill.
$out/$merge (and the other stages that need the server: $changeStream, $currentOp, ...) are
refused here; the server handles or refuses them.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from bson.decimal128 import Decimal128
from bson.int64 import Int64

from ._lazy import lib as _lib
from .compare import MISSING, canonical_key, collated_key, compare_values, is_number, type_name
from .errors import EngineError, bad_value, err
from .group import accumulate, parse_accumulators
from .interrupt import check as _interrupt_point
from .match import _eq_any, matches
from .paths import collect_values, deep_copy, set_path
from .project import _flatten, apply_projection
from .sort import sort_documents
from .times import now_datetime, now_timestamp

Lookup = Callable[[str], list[dict[str, Any]]]

SERVER_STAGES = (
    "$out",
    "$merge",
    "$changeStream",
    "$changeStreamSplitLargeEvent",
    "$currentOp",
    "$collStats",
    "$indexStats",
    "$listSessions",
    "$listLocalSessions",
    "$planCacheStats",
    "$listSearchIndexes",
    "$search",
    "$searchMeta",
    "$vectorSearch",
    "$listSampledQueries",
    "$querySettings",
)
LIBRARY_STAGES = ("$redact", "$setWindowFields", "$fill")
_rng = random.Random()


class _Run:
    def __init__(self, lookup: Lookup | None, variables: dict[str, Any]) -> None:
        self.lookup = lookup
        self.variables = variables

    def foreign(self, name: Any, stage: str) -> list[dict[str, Any]]:
        if not isinstance(name, str) or not name:
            raise err(40321, f"{stage} 'from' must be a string")
        if self.lookup is None:
            return []
        return [deep_copy(d) for d in self.lookup(name)]


def base_variables(let: dict[str, Any] | None) -> dict[str, Any]:
    variables: dict[str, Any] = {"NOW": now_datetime(), "CLUSTER_TIME": now_timestamp()}
    if let:
        if not isinstance(let, dict):
            raise bad_value("'let' must be an object")
        for name, expr in let.items():
            if not name or not (name[0].islower() or name[0] == "_" or not name[0].isascii()):
                raise err(
                    16867, f"'{name}' starts with an invalid character for a user variable name"
                )
            variables[name] = _lib.eval_expression(expr, {}, variables)
    return variables


def run_pipeline(
    docs: list[dict[str, Any]],
    pipeline: list[dict[str, Any]],
    *,
    lookup: Lookup | None = None,
    let: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    return run_with_variables(docs, pipeline, base_variables(let), lookup=lookup)


def run_with_variables(
    docs: list[dict[str, Any]],
    pipeline: list[dict[str, Any]],
    variables: dict[str, Any],
    *,
    lookup: Lookup | None = None,
) -> list[dict[str, Any]]:
    """run_pipeline with variables already evaluated (see base_variables)."""
    if not isinstance(docs, list):
        raise bad_value("documents must be a list")
    return _run(deep_copy(docs), pipeline, _Run(lookup, variables), top=True)


def _stage_name(stage: Any) -> tuple[str, Any]:
    if not isinstance(stage, dict) or len(stage) != 1:
        raise err(40323, "A pipeline stage specification object must contain exactly one field.")
    return next(iter(stage.items()))


def _run(docs: list[dict[str, Any]], pipeline: Any, run: _Run, top: bool = False) -> list:
    if not isinstance(pipeline, list):
        raise err(14, "'pipeline' option must be specified as an array")
    stages = [_stage_name(s) for s in pipeline]
    for i, (name, _) in enumerate(stages):
        if name == "$changeStreamSplitLargeEvent":
            # [srv:db/pipeline/pipeline.cpp validateTopLevelPipeline: kRequiresChangeStream]
            raise EngineError(
                20, "IllegalOperation", f"{name} can only be used in a $changeStream pipeline"
            )
        if name in SERVER_STAGES:
            if name in ("$out", "$merge") and i != len(stages) - 1:
                raise err(40601, f"{name} can only be the final stage in the pipeline")
            raise err(
                40324,
                f"Unrecognized pipeline stage name: '{name}' (the query engine does not run "
                f"{name}; the server must handle it)",
            )
        if name not in _HANDLERS and name not in LIBRARY_STAGES:
            raise err(40324, f"Unrecognized pipeline stage name: '{name}'")
        if name == "$documents" and i != 0:
            raise err(40602, "$documents is only valid as the first stage in a pipeline")
    for name, spec in stages:
        _interrupt_point()
        handler = _HANDLERS.get(name)
        if handler is None:
            docs = _lib.run_library_stage(name, docs, spec, run.variables) or []
        else:
            docs = handler(docs, spec, run)
    return docs


# ------------------------------------------------------------------------------ stages


def _each(docs: Iterable[Any]) -> Iterator[Any]:
    """The documents, with an interrupt point before each (maxTimeMS, killOp)."""
    for d in docs:
        _interrupt_point()
        yield d


def _match(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict):
        raise err(15959, "the match filter must be an expression in an object")
    return [d for d in _each(docs) if matches(spec, d, run.variables)]


def _project(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict):
        raise err(15969, "$project specification must be an object")
    return [apply_projection(d, spec, variables=run.variables, aggregate=True) for d in _each(docs)]


def _unset(docs: list, spec: Any, run: _Run) -> list:
    fields = [spec] if isinstance(spec, str) else spec
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise err(31002, "$unset specification must be a string or an array of strings")
    return [apply_projection(d, dict.fromkeys(fields, 0), aggregate=True) for d in docs]


def _add_fields(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict):
        raise err(40272, "$addFields specification stage must be an object")
    # manual: $addFields "Adding Fields to an Embedded Document": {a: {b: x}} sets a.b.

    flat: list[tuple[str, Any]] = []
    _flatten(spec, "", flat, True)
    out = []
    for d in _each(docs):
        new = deep_copy(d)
        for field, expr in flat:
            if field[:1] == "$":
                raise err(16410, f"FieldPath field names may not start with '$'. Given: {field}")
            value = _lib.eval_expression(expr, d, run.variables)
            parts = field.split(".")
            if value is MISSING:
                _remove_path(new, parts)
                continue
            try:
                set_path(new, parts, value)
            except Exception:
                # $addFields replaces non-document intermediates (unlike $set updates).
                _force_set(new, parts, value)
        out.append(new)
    return out


def _eval_object(expr: dict[str, Any], doc: dict[str, Any], run: _Run) -> Any:
    out = {}
    for k, v in expr.items():
        if isinstance(v, dict) and v and all(kk[:1] != "$" for kk in v):
            value = _eval_object(v, doc, run)
        else:
            value = _lib.eval_expression(v, doc, run.variables)
        if value is not MISSING:
            out[k] = value
    return out


def _force_set(doc: dict[str, Any], parts: list[str], value: Any) -> None:
    cur = doc
    for part in parts[:-1]:
        if not isinstance(cur.get(part), dict):
            cur[part] = {}
        cur = cur[part]
    cur[parts[-1]] = value


def _remove_path(doc: dict[str, Any], parts: list[str]) -> None:
    cur: Any = doc
    for part in parts[:-1]:
        cur = cur.get(part) if isinstance(cur, dict) else None
    if isinstance(cur, dict):
        cur.pop(parts[-1], None)


def _replace_root(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict) or "newRoot" not in spec:
        raise err(40231, "no newRoot specified for the $replaceRoot stage")
    return _replace_with(docs, spec["newRoot"], run)


def _replace_with(docs: list, expr: Any, run: _Run) -> list:
    out = []
    for d in _each(docs):
        if isinstance(expr, dict) and expr and all(k[:1] != "$" for k in expr):
            value = _eval_object(expr, d, run)
        else:
            value = _lib.eval_expression(expr, d, run.variables)
        if not isinstance(value, dict):
            from .fmt import shell

            shown = "missing" if value is MISSING else shell(value)
            raise err(
                40228,
                f"'replacement document' must evaluate to an object, but resulting value was: "
                f"{shown}. Type of resulting value: '{_type_label(value)}'. Input document: "
                f"{shell(d)}",
            )
        out.append(value)
    return out


def _type_label(value: Any) -> str:

    return type_name(value)


def _group(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict):
        raise err(15947, "a group's fields must be specified in an object")
    if "_id" not in spec:
        raise err(15955, "a group specification must include an _id")
    accs = parse_accumulators(spec)
    id_expr = spec["_id"]
    groups: dict[Any, tuple[Any, list]] = {}
    for d in _each(docs):
        if isinstance(id_expr, dict) and id_expr and all(k[:1] != "$" for k in id_expr):
            key = _eval_object(id_expr, d, run)
        else:
            key = _lib.eval_expression(id_expr, d, run.variables)
        if key is MISSING:
            key = None
        ck = collated_key(key)
        if ck not in groups:
            groups[ck] = (key, [])
        groups[ck][1].append(d)
    out = []
    for key, members in groups.values():
        row = {"_id": key}
        row.update(accumulate(accs, members, run.variables))
        out.append(row)
    return out


def _sort(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict) or not spec:
        raise err(15976, "$sort stage must have at least one sort key")
    return sort_documents(docs, spec)


def _int_spec(spec: Any, stage: str) -> int:
    if not is_number(spec):
        code = 15957 if stage == "$limit" else 15972
        raise err(code, f"the {stage[1:]} must be specified as a number")
    value = spec.to_decimal() if isinstance(spec, Decimal128) else spec
    if value != int(value):
        raise err(
            15957 if stage == "$limit" else 15972,
            f"the {stage[1:]} must be specified as a whole number",
        )
    return int(value)


def _limit(docs: list, spec: Any, run: _Run) -> list:
    n = _int_spec(spec, "$limit")
    if n <= 0:
        raise err(15958, "the limit must be positive")
    return docs[:n]


def _skip(docs: list, spec: Any, run: _Run) -> list:
    n = _int_spec(spec, "$skip")
    if n < 0:
        raise err(15956, "Argument to $skip cannot be negative")
    return docs[n:]


def _count(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, str) or not spec:
        raise err(40156, "the count field must be a non-empty string")
    if spec[:1] == "$":
        raise err(40158, "the count field cannot be a $-prefixed path")
    if "." in spec:
        raise err(40160, "the count field cannot contain '.'")
    if not docs:
        return []
    n = len(docs)
    return [{spec: n if n < 2**31 else Int64(n)}]


def _unwind(docs: list, spec: Any, run: _Run) -> list:
    if isinstance(spec, str):
        spec = {"path": spec}
    if not isinstance(spec, dict):
        raise err(15981, "expected either a string or an object as specification for $unwind stage")
    path = spec.get("path")
    if not isinstance(path, str) or not path:
        raise err(28812, "no path specified to $unwind stage")
    if path[0] != "$":
        raise err(28818, f"path option to $unwind stage should be prefixed with a '$': {path}")
    for k in spec:
        if k not in ("path", "includeArrayIndex", "preserveNullAndEmptyArrays"):
            raise err(28811, f"unrecognized option to $unwind stage: {k}")
    index_field = spec.get("includeArrayIndex")
    if index_field is not None and (
        not isinstance(index_field, str) or not index_field or index_field[0] == "$"
    ):
        raise err(
            28810,
            "includeArrayIndex option to $unwind stage must be a non-empty string "
            "not starting with '$'",
        )
    preserve = spec.get("preserveNullAndEmptyArrays", False)
    if not isinstance(preserve, bool):
        raise err(
            28809, "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage"
        )
    parts = path[1:].split(".")

    out = []
    for d in _each(docs):
        value = _get_plain(d, parts)
        if isinstance(value, list) and value:
            for i, elem in enumerate(value):
                _interrupt_point()
                # A copy of d with elem in place of the array, not a copy of the array:
                # copying d whole for each element made $unwind quadratic in its length.
                new = _copy_replacing(d, parts, elem)
                if index_field:
                    _force_set(new, index_field.split("."), Int64(i))
                out.append(new)
        elif value is MISSING or value is None or value == []:
            if preserve:
                new = deep_copy(d)
                if isinstance(value, list):
                    _remove_path(new, parts)
                if index_field:
                    _force_set(new, index_field.split("."), None)
                out.append(new)
        else:
            new = deep_copy(d)
            if index_field:
                set_path(new, index_field.split("."), None)
            out.append(new)
    return out


def _copy_replacing(doc: dict[str, Any], parts: list[str], value: Any) -> dict[str, Any]:
    """deep_copy(doc) with a copy of `value` at `parts` (a path of documents that exists),
    without copying what was there; field order is kept."""
    head = parts[0]
    out = {}
    for k, v in doc.items():
        if k != head:
            out[k] = deep_copy(v)
        elif len(parts) == 1:
            out[k] = deep_copy(value)
        else:
            out[k] = _copy_replacing(v, parts[1:], value)
    return out


def _get_plain(doc: Any, parts: list[str]) -> Any:
    cur = doc
    for part in parts:
        if not isinstance(cur, dict) or part not in cur:
            return MISSING
        cur = cur[part]
    return cur


def _lookup(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict):
        raise err(40319, "the $lookup stage specification must be an object")
    for k in spec:
        if k not in ("from", "as", "localField", "foreignField", "let", "pipeline"):
            raise err(40320, f"unknown argument to $lookup: {k}")
    if "as" not in spec or not isinstance(spec["as"], str):
        raise err(40321, "must specify 'as' field for a $lookup")
    has_pipeline = "pipeline" in spec
    has_fields = "localField" in spec or "foreignField" in spec
    if has_fields and not ("localField" in spec and "foreignField" in spec):
        raise err(40322, "$lookup requires both or neither of 'localField' and 'foreignField'")
    if not has_pipeline and not has_fields:
        raise err(
            40321,
            "$lookup requires either 'pipeline' or both 'localField' and "
            "'foreignField' to be specified",
        )
    if "let" in spec and not has_pipeline:
        raise err(40322, "$lookup with 'let' requires a 'pipeline'")
    foreign = run.foreign(spec.get("from"), "$lookup") if "from" in spec else []
    pipeline = spec.get("pipeline")
    index = _foreign_index(foreign, spec["foreignField"]) if has_fields else None

    out = []
    for d in _each(docs):
        if has_fields:
            local = _local_values(d, spec["localField"])
            if index is not None:
                hits: set[int] = set()
                for v in local:
                    hits.update(index.get(collated_key(v), ()))
                joined = [foreign[i] for i in sorted(hits)]
            else:
                cond = {spec["foreignField"]: {"$in": local}}
                joined = [f for f in _each(foreign) if _lookup_match(cond, f)]
        else:
            joined = list(foreign)
        if has_pipeline:
            variables = dict(run.variables)
            for name, expr in (spec.get("let") or {}).items():
                variables[name] = _lib.eval_expression(expr, d, run.variables)
            joined = _run(deep_copy(joined), pipeline, _Run(run.lookup, variables))
        new = d  # docs are our own copies
        try:
            set_path(new, spec["as"].split("."), deep_copy(joined))
        except Exception:
            _force_set(new, spec["as"].split("."), deep_copy(joined))
        out.append(new)
    return out


def _local_values(doc: dict[str, Any], path: str) -> list[Any]:
    values = []
    for v in collect_values(doc, path.split(".")):
        if isinstance(v, list):
            values.extend(v) if v else values.append(None)
        else:
            values.append(None if v is MISSING else v)
    return values


def _foreign_index(foreign: list[dict[str, Any]], field: Any) -> dict[Hashable, list[int]] | None:
    """A hash of the foreign documents by the values at `field`, each under its key and, for
    an array, its elements' keys too (as equality sees them: _eq_any), a missing field under
    null's. Equal keys are equal values (compare.collated_key), so the join looks up each
    local value once instead of comparing every pair, as the server's hash join and index
    lookups do (manual: $lookup, "Equality Match with a Single Join Condition").
    None: a value without a key; the caller compares pairs then."""
    if not isinstance(field, str):
        return None
    parts = field.split(".")
    null_key = collated_key(None)
    index: dict[Hashable, list[int]] = {}
    try:
        for i, f in enumerate(_each(foreign)):
            keys = set()
            for v in collect_values(f, parts):
                if v is MISSING:
                    keys.add(null_key)
                    continue
                keys.add(collated_key(v))
                if type(v) is list:
                    keys.update(collated_key(e) for e in v)
            for k in keys:
                index.setdefault(k, []).append(i)
    except (TypeError, ValueError):
        return None
    return index


def _lookup_match(cond: dict[str, Any], doc: dict[str, Any]) -> bool:
    # Equality semantics of $lookup (manual: "Equality Match with a Single Join Condition");
    # regexes in local values are compared as values, not applied as patterns.
    ((field, spec),) = cond.items()

    values = collect_values(doc, field.split("."))
    return any(_eq_any(values, v) for v in spec["$in"])


def _graph_lookup(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict):
        raise err(40327, "the $graphLookup stage specification must be an object")
    for k in ("from", "as", "startWith", "connectFromField", "connectToField"):
        if k not in spec:
            raise err(40105, f"missing '{k}' option to $graphLookup stage specification")
    max_depth = spec.get("maxDepth")
    if max_depth is not None and (not is_number(max_depth) or max_depth < 0):
        raise err(40101, "maxDepth requires a nonnegative argument")
    depth_field = spec.get("depthField")
    restrict = spec.get("restrictSearchWithMatch") or {}
    foreign = run.foreign(spec["from"], "$graphLookup")
    from_field = spec["connectFromField"]
    to_field = spec["connectToField"]

    out = []
    for d in _each(docs):
        start = _lib.eval_expression(spec["startWith"], d, run.variables)
        frontier = start if isinstance(start, list) else [start]
        frontier = [None if v is MISSING else v for v in frontier]
        seen: set = set()
        found: list = []
        depth = 0
        while frontier and (max_depth is None or depth <= max_depth):
            next_frontier = []
            for f in _each(foreign):
                values = collect_values(f, to_field.split("."))

                if not any(_eq_any(values, v) for v in frontier):
                    continue
                if restrict and not matches(restrict, f, run.variables):
                    continue
                key = canonical_key(f.get("_id"))
                if key in seen:
                    continue
                seen.add(key)
                item = deep_copy(f)
                if depth_field:
                    item[depth_field] = Int64(depth)
                found.append(item)
                for v in collect_values(f, from_field.split(".")):
                    if isinstance(v, list):
                        next_frontier.extend(v)
                    elif v is not MISSING:
                        next_frontier.append(v)
            frontier = next_frontier
            depth += 1
        set_path(d, spec["as"].split("."), found)
        out.append(d)
    return out


def _union_with(docs: list, spec: Any, run: _Run) -> list:
    if isinstance(spec, str):
        coll, pipeline = spec, []
    elif isinstance(spec, dict):
        coll, pipeline = spec.get("coll"), spec.get("pipeline", [])
        if coll is None and not pipeline:
            raise err(
                31124,
                "$unionWith stage without explicit collection must have a "
                "pipeline with $documents as first stage",
            )
    else:
        raise err(40602, "the $unionWith stage specification must be an object or string")
    foreign = run.foreign(coll, "$unionWith") if coll is not None else []
    return docs + _run(foreign, pipeline, run)


def _facet(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict) or not spec:
        raise err(40169, "the $facet specification must be a non-empty object")
    row = {}
    for name, pipeline in spec.items():
        if not isinstance(pipeline, list):
            raise err(40170, f"arguments to $facet must be arrays, {name} is not")
        for stage in pipeline:
            sname, _ = _stage_name(stage)
            if sname in ("$facet", "$out", "$merge", "$collStats", "$indexStats"):
                raise err(40600, f"{sname} is not allowed to be used within a $facet stage")
        row[name] = _run(deep_copy(docs), pipeline, run)
    return [row]


def _bucket(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict):
        raise err(40201, "Argument to $bucket stage must be an object")
    for k in spec:
        if k not in ("groupBy", "boundaries", "default", "output"):
            raise err(40197, f"Unrecognized option to $bucket: {k}.")
    if "groupBy" not in spec or "boundaries" not in spec:
        raise err(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.")
    bounds = spec["boundaries"]
    if not isinstance(bounds, list) or len(bounds) < 2:
        raise err(40192, "The $bucket 'boundaries' field must be an array with at least 2 values")
    for a, b in itertools.pairwise(bounds):
        if compare_values(a, b) >= 0:
            raise err(40194, "The 'boundaries' option to $bucket must be sorted in ascending order")
    has_default = "default" in spec
    default = spec.get("default")
    if has_default and compare_values(bounds[0], default) <= 0 < compare_values(
        bounds[-1], default
    ):
        raise err(
            40199,
            "The $bucket 'default' field must be less than the lowest boundary or "
            "greater than or equal to the highest boundary.",
        )
    accs = parse_accumulators(spec.get("output") or {"count": {"$sum": 1}}, skip=())
    buckets: list[list] = [[] for _ in bounds[:-1]]
    default_bucket: list = []
    for d in _each(docs):
        value = _lib.eval_expression(spec["groupBy"], d, run.variables)
        value = None if value is MISSING else value
        placed = False
        for i in range(len(bounds) - 1):
            if compare_values(bounds[i], value) <= 0 < compare_values(bounds[i + 1], value):
                buckets[i].append(d)
                placed = True
                break
        if not placed:
            if not has_default:
                raise err(
                    40066,
                    "$switch could not find a matching branch for an input, and no "
                    "default was specified.",
                )
            default_bucket.append(d)
    out = []
    for i, members in enumerate(buckets):
        if members:
            out.append({"_id": bounds[i], **accumulate(accs, members, run.variables)})
    if default_bucket:
        out.append({"_id": default, **accumulate(accs, default_bucket, run.variables)})
    return out


def _sort_by_count(docs: list, spec: Any, run: _Run) -> list:
    if not (isinstance(spec, str) and spec[:1] == "$") and not (
        isinstance(spec, dict) and len(spec) == 1 and next(iter(spec))[:1] == "$"
    ):
        raise err(
            40148, "the sortByCount field must be defined as a $-prefixed path or an expression"
        )
    grouped = _group(docs, {"_id": spec, "count": {"$sum": 1}}, run)
    return sort_documents(grouped, {"count": -1})


def _sample(docs: list, spec: Any, run: _Run) -> list:
    if not isinstance(spec, dict) or "size" not in spec:
        raise err(28749, "$sample stage must specify a size")
    size = spec["size"]
    if not is_number(size) or size < 0:
        raise err(28747, "size argument to $sample must not be negative")
    size = int(size)
    return _rng.sample(docs, min(size, len(docs)))


def _documents(docs: list, spec: Any, run: _Run) -> list:
    value = _lib.eval_expression(spec, {}, run.variables)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise err(5858203, "error during lookup: $documents must evaluate to an array of objects")
    return deep_copy(value)


_HANDLERS: dict[str, Callable[[list, Any, _Run], list]] = {
    "$match": _match,
    "$project": _project,
    "$addFields": _add_fields,
    "$set": _add_fields,
    "$unset": _unset,
    "$replaceRoot": _replace_root,
    "$replaceWith": _replace_with,
    "$group": _group,
    "$sort": _sort,
    "$limit": _limit,
    "$skip": _skip,
    "$count": _count,
    "$unwind": _unwind,
    "$lookup": _lookup,
    "$graphLookup": _graph_lookup,
    "$unionWith": _union_with,
    "$facet": _facet,
    "$bucket": _bucket,
    "$sortByCount": _sort_by_count,
    "$sample": _sample,
    "$documents": _documents,
}


def distinct_values(docs: list[dict[str, Any]], key: str) -> list[Any]:
    """MongoDB distinct: values at the path, arrays unwound one level, deduplicated by BSON
    equality (under the active collation: the first value seen stands for its equals),
    returned in BSON order (the server collects them in an ordered set)."""
    if not isinstance(key, str) or not key:
        raise bad_value("FieldPath cannot be constructed with empty string")
    if key[:1] == "$":
        raise bad_value(f"FieldPath field names may not start with '$'. Given: {key}")
    seen: dict[Any, Any] = {}
    parts = key.split(".")
    for d in docs:
        for v in collect_values(d, parts):
            if v is MISSING:
                continue
            items = v if isinstance(v, list) else [v]
            for item in items:
                ck = collated_key(item)
                if ck not in seen:
                    seen[ck] = item
    import functools

    return [deep_copy(v) for v in sorted(seen.values(), key=functools.cmp_to_key(compare_values))]


def known_stage(name: str) -> bool:
    """Whether MongoDB has a stage of this name (run here, by the library, or by the server)."""
    return name in _HANDLERS or name in LIBRARY_STAGES or name in SERVER_STAGES

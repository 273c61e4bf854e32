"""explain: how the sandbox runs a find, aggregate, count, distinct, update, delete or
findAndModify, in mongod's reply shape (issue 17, D15).

The plan is the one the sandbox really follows: a point lookup on `_id` reads the `_id_`
index (IDHACK for one plain value, IXSCAN + FETCH otherwise), anything else scans the
collection (COLLSCAN); secondary indexes are never used for reads. Write explains change
nothing. Verbosity `queryPlanner` plans only; `executionStats` and `allPlansExecution`
(the default) also run the read and report what it examined [manual: explain, "Explain
Results"; srv:db/commands/explain_cmd.cpp CmdExplain::parse, db/query/explain.cpp].

`explain` is not allowed in a transaction (263, not in the allowlist of
[srv:db/commands.cpp CommandHelpers::canUseTransactions]) and, not being a retryable write,
refuses `txnNumber` outside one (50768 NotARetryableWriteCommand [srv:db/
transaction_validation.cpp validateSessionOptions]); dispatch does both from the flags.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

from .. import engine
from ..access import OpContext, engine_error, id_point_keys
from ..errors import CommandError
from ..store import Collection
from . import admin
from .common import coll_name, compute_update, get_doc, integer_arg, sort_docs
from .registry import command, lookup

_VERBOSITIES = ("queryPlanner", "executionStats", "allPlansExecution")
_EXPLAINABLE = frozenset(
    {"find", "aggregate", "count", "distinct", "update", "delete", "findAndModify", "findandmodify"}
)
_MEMORY_LIMIT = 104857600  # the 100 MB defaults of the query knobs explain reports


def _verbosity(body: dict[str, Any]) -> str:
    value = body.get("verbosity", "allPlansExecution")
    if value not in _VERBOSITIES:
        raise CommandError(
            2, f"Enumeration value '{value}' for field 'explain.verbosity' is not a valid value."
        )
    return str(value)


@command("explain")
async def explain(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    inner = body.get("explain")
    verbosity = _verbosity(body)
    if not isinstance(inner, dict) or not inner:
        raise CommandError(2, "explain command requires a nested object")
    inner_db = inner.get("$db")
    if inner_db is not None and inner_db != ctx.db:
        raise CommandError(
            73, f"Mismatched $db in explain command. Expected {ctx.db} but got {inner_db}"
        )
    name = next(iter(inner))
    if name not in _EXPLAINABLE:
        if lookup(name) is None:
            raise CommandError(59, f"Explain failed due to unknown command: {name}")
        raise CommandError(20, f"Cannot explain cmd: {name}")
    inner = {**inner, "$db": ctx.db}
    if name == "aggregate":
        return explain_aggregate(ctx, inner, verbosity)
    return await _EXPLAINERS[name](ctx, inner, verbosity)


# ---- plans ------------------------------------------------------------------------------


class _Plan:
    """A stage tree with what running it examined (the executionStats side)."""

    def __init__(self, stage: dict[str, Any], n: int, keys: int, docs: int) -> None:
        self.stage = stage
        self.n = n
        self.keys = keys
        self.docs = docs
        self.exec_extra: dict[str, Any] = {}


def _parsed(query: dict[str, Any]) -> dict[str, Any]:
    """The query as mongod prints it: each condition `{path: {$op: value}}`, several in
    an `$and` sorted by path [srv:db/matcher/expression_parser.cpp, the canonical query]."""
    parts: list[dict[str, Any]] = []
    for path, cond in query.items():
        if path.startswith("$"):
            parts.append({path: cond})
        elif isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
            parts.extend({path: {op: value}} for op, value in cond.items())
        else:
            parts.append({path: {"$eq": cond}})
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return {}
    return {"$and": sorted(parts, key=lambda p: next(iter(p)))}


def _bounds(values: list[Any]) -> list[str]:
    return [f"[{_shown(v)}, {_shown(v)}]" for v in values]


def _shown(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _access(
    ctx: OpContext, coll: Collection | None, query: dict[str, Any], limit: int = 0
) -> tuple[_Plan, list[tuple[Hashable, dict[str, Any]]]]:
    """How the sandbox reads `query` (see the module docstring), and the rows it finds."""
    if coll is None:
        return _Plan({"stage": "EOF"}, 0, 0, 0), []
    keys = None if coll.is_view else id_point_keys(query, ctx.collation)
    if keys is not None:
        rows = ctx.find(coll, query)
        values = query["_id"]
        plain = not isinstance(values, dict)
        if plain and len(query) == 1:
            plan = _Plan({"stage": "IDHACK"}, len(rows), len(keys), len(rows))
            plan.exec_extra = {"keysExamined": len(keys), "docsExamined": len(rows)}
            return plan, rows
        if isinstance(values, dict) and "$in" in values:
            shown = sorted(values["$in"], key=_shown)
        else:
            shown = [values["$eq"] if isinstance(values, dict) else values]
        rest = {k: v for k, v in query.items() if k != "_id"}
        ixscan = {
            "stage": "IXSCAN",
            "keyPattern": {"_id": 1},
            "indexName": "_id_",
            "isMultiKey": False,
            "multiKeyPaths": {"_id": []},
            "isUnique": True,
            "isSparse": False,
            "isPartial": False,
            "indexVersion": 2,
            "direction": "forward",
            "indexBounds": {"_id": _bounds(shown)},
        }
        fetch: dict[str, Any] = {"stage": "FETCH"}
        if rest:
            fetch["filter"] = _parsed(rest)
        fetch["inputStage"] = ixscan
        plan = _Plan(fetch, len(rows), len(keys), len(rows))
        return plan, rows
    visible = ctx.count(coll)
    rows = ctx.find(coll, query, limit=limit)
    stage: dict[str, Any] = {"stage": "COLLSCAN"}
    if query:
        stage["filter"] = _parsed(query)
    stage["direction"] = "forward"
    plan = _Plan(stage, len(rows), 0, visible)
    plan.exec_extra = {"docsExamined": visible}
    return plan, rows


def _wrap(name: str, plan: _Plan, n: int, **fields: Any) -> _Plan:
    """A stage above `plan`'s, returning `n` documents."""
    outer = _Plan({"stage": name, **fields, "inputStage": plan.stage}, n, plan.keys, plan.docs)
    outer.exec_extra = {"_input": plan}
    return outer


def _exec_stage(plan: _Plan) -> dict[str, Any]:
    """The stage tree with each stage's counters, as executionStats shows it."""
    out: dict[str, Any] = {}
    for key, value in plan.stage.items():
        if key == "inputStage":
            continue
        out[key] = value
        if key == "stage":
            out.update(
                {
                    "nReturned": plan.n,
                    "executionTimeMillisEstimate": 0,
                    "works": plan.docs + 1,
                    "advanced": plan.n,
                    "needTime": max(0, plan.docs - plan.n),
                    "needYield": 0,
                    "saveState": 0,
                    "restoreState": 0,
                    "isEOF": 1,
                }
            )
    for key, value in plan.exec_extra.items():
        if key != "_input":
            out[key] = value
    inner = plan.exec_extra.get("_input")
    if inner is not None:
        out["inputStage"] = _exec_stage(inner)
    return out


def _reply(
    ctx: OpContext,
    inner: dict[str, Any],
    verbosity: str,
    plan: _Plan,
    started: float,
    **planner_extra: Any,
) -> dict[str, Any]:
    name = next(iter(inner))
    target = inner.get(name)
    ns = f"{ctx.db}.{target}" if isinstance(target, str) else f"{ctx.db}.$cmd.aggregate"
    reply: dict[str, Any] = {
        "explainVersion": "1",
        "queryPlanner": _planner(ns, plan, planner_extra),
    }
    if verbosity != "queryPlanner":
        reply["executionStats"] = _execution(plan, started, verbosity)
    reply.update(_footer(ctx, inner))
    return reply


def _planner(ns: str, plan: _Plan, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "namespace": ns,
        "parsedQuery": extra.pop("parsedQuery", {}),
        "indexFilterSet": False,
        **extra,
        "maxIndexedOrSolutionsReached": False,
        "maxIndexedAndSolutionsReached": False,
        "maxScansToExplodeReached": False,
        "prunedSimilarIndexes": False,
        "winningPlan": {"isCached": False, **plan.stage},
        "rejectedPlans": [],
    }


def _execution(plan: _Plan, started: float, verbosity: str) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "executionSuccess": True,
        "nReturned": plan.n,
        "executionTimeMillis": int((time.monotonic() - started) * 1000),
        "totalKeysExamined": plan.keys,
        "totalDocsExamined": plan.docs,
        "executionStages": {"isCached": False, **_exec_stage(plan)},
    }
    if verbosity == "allPlansExecution":
        stats["allPlansExecution"] = []  # one candidate plan: nothing else was tried
    return stats


def _footer(ctx: OpContext, inner: dict[str, Any]) -> dict[str, Any]:
    host, _, port = ctx.state.host.rpartition(":")
    return {
        "command": inner,
        "serverInfo": {
            "host": host,
            "port": int(port) if port.isdigit() else 27017,
            "version": admin.SERVER_VERSION,
            "gitVersion": "mongotx-sandbox",
        },
        "serverParameters": {
            "internalQueryFacetBufferSizeBytes": _MEMORY_LIMIT,
            "internalQueryFacetMaxOutputDocSizeBytes": _MEMORY_LIMIT,
            "internalLookupStageIntermediateDocumentMaxSizeBytes": _MEMORY_LIMIT,
            "internalDocumentSourceGroupMaxMemoryBytes": _MEMORY_LIMIT,
            "internalQueryMaxBlockingSortMemoryUsageBytes": _MEMORY_LIMIT,
            "internalQueryProhibitBlockingMergeOnMongoS": 0,
            "internalQueryMaxAddToSetBytes": _MEMORY_LIMIT,
            "internalDocumentSourceSetWindowFieldsMaxMemoryBytes": _MEMORY_LIMIT,
            "internalQueryFrameworkControl": "trySbeRestricted",
        },
        "ok": 1.0,
    }


def _collection(ctx: OpContext, inner: dict[str, Any], name: str) -> Collection | None:
    coll = ctx.collection(ctx.db, coll_name(inner, name))
    ctx.use_collation(coll, inner.get("collation"))
    return coll


# ---- the explained commands -------------------------------------------------------------


def _find_plan(
    ctx: OpContext, coll: Collection | None, query: dict[str, Any], inner: dict[str, Any]
) -> _Plan:
    sort = get_doc(inner, "sort")
    skip = integer_arg(inner.get("skip") or 0, "skip")
    limit = abs(integer_arg(inner.get("limit") or 0, "limit"))
    plan, rows = _access(ctx, coll, query, skip + limit if limit and not sort else 0)
    n = len(rows)
    if sort:
        sort_docs([d for _, d in rows], sort, ctx.collation)  # refuses a bad sort as find does
        fields: dict[str, Any] = {"sortPattern": sort, "memLimit": _MEMORY_LIMIT}
        if limit:
            fields["limitAmount"] = limit
        n = min(n, skip + limit) if limit else n
        plan = _wrap("SORT", plan, n, **fields, type="simple")
    if skip:
        n = max(0, n - skip)
        plan = _wrap("SKIP", plan, n, skipAmount=skip)
    if limit and not sort:
        n = min(n, limit)
        plan = _wrap("LIMIT", plan, n, limitAmount=limit)
    projection = get_doc(inner, "projection")
    if projection:
        plan = _wrap("PROJECTION_DEFAULT", plan, n, transformBy=projection)
    return plan


async def _explain_find(ctx: OpContext, inner: dict[str, Any], verbosity: str) -> dict[str, Any]:
    started = time.monotonic()
    coll = _collection(ctx, inner, "find")
    query = get_doc(inner, "filter", {}) or {}
    plan = _find_plan(ctx, coll, query, inner)
    return _reply(ctx, inner, verbosity, plan, started, parsedQuery=_parsed(query))


async def _explain_count(ctx: OpContext, inner: dict[str, Any], verbosity: str) -> dict[str, Any]:
    started = time.monotonic()
    coll = _collection(ctx, inner, "count")
    query = get_doc(inner, "query", {}) or {}
    if not query and coll is not None and not coll.is_view:
        n = ctx.count(coll)
        plan = _Plan({"stage": "RECORD_STORE_FAST_COUNT"}, 0, 0, 0)
        plan.exec_extra = {"nCounted": n, "nSkipped": 0}
    else:
        access, rows = _access(ctx, coll, query)
        plan = _wrap("COUNT", access, 0)
        plan.exec_extra["nCounted"] = len(rows)
        plan.exec_extra["nSkipped"] = 0
    return _reply(ctx, inner, verbosity, plan, started, parsedQuery=_parsed(query))


async def _explain_distinct(
    ctx: OpContext, inner: dict[str, Any], verbosity: str
) -> dict[str, Any]:
    started = time.monotonic()
    coll = _collection(ctx, inner, "distinct")
    if not isinstance(inner.get("key"), str):
        raise CommandError(14, "BSON field 'key' is missing or not a string")
    query = get_doc(inner, "query", {}) or {}
    plan, _ = _access(ctx, coll, query)
    return _reply(ctx, inner, verbosity, plan, started, parsedQuery=_parsed(query))


def _would_modify(
    ctx: OpContext, rows: list[tuple[Hashable, dict[str, Any]]], query: dict[str, Any], stmt: dict
) -> int:
    update = stmt.get("u", stmt.get("update"))
    if not isinstance(update, dict | list):
        raise CommandError(14, "BSON field 'u' must be an object or an array")
    n = 0
    for _, doc in rows:
        new = compute_update(
            doc, update, array_filters=stmt.get("arrayFilters"), query=query, let=ctx.let
        )
        n += new != doc
    return n


def _single_statement(inner: dict[str, Any], field: str) -> dict[str, Any]:
    stmts = inner.get(field)
    if not isinstance(stmts, list) or len(stmts) != 1 or not isinstance(stmts[0], dict):
        raise CommandError(16, "explained write batches must be of size 1")
    return stmts[0]


async def _explain_update(ctx: OpContext, inner: dict[str, Any], verbosity: str) -> dict[str, Any]:
    started = time.monotonic()
    stmt = _single_statement(inner, "updates")
    coll = ctx.collection(ctx.db, coll_name(inner, "update"))
    ctx.use_collation(coll, stmt.get("collation"))
    query = get_doc(stmt, "q", {}) or {}
    multi = bool(stmt.get("multi"))
    access, rows = _access(ctx, coll, query, 0 if multi else 1)
    rows = rows if multi else rows[:1]
    plan = _wrap("UPDATE", access, 0)
    plan.exec_extra.update(
        {
            "nMatched": len(rows),
            "nWouldModify": _would_modify(ctx, rows, query, stmt),
            "nWouldUpsert": int(not rows and bool(stmt.get("upsert"))),
        }
    )
    return _reply(ctx, inner, verbosity, plan, started, parsedQuery=_parsed(query))


async def _explain_delete(ctx: OpContext, inner: dict[str, Any], verbosity: str) -> dict[str, Any]:
    started = time.monotonic()
    stmt = _single_statement(inner, "deletes")
    coll = ctx.collection(ctx.db, coll_name(inner, "delete"))
    ctx.use_collation(coll, stmt.get("collation"))
    query = get_doc(stmt, "q", {}) or {}
    limit = integer_arg(stmt.get("limit", 0), "limit")
    access, rows = _access(ctx, coll, query, limit)
    plan = _wrap("DELETE", access, 0)
    plan.exec_extra["nWouldDelete"] = len(rows[:limit] if limit else rows)
    return _reply(ctx, inner, verbosity, plan, started, parsedQuery=_parsed(query))


async def _explain_find_and_modify(
    ctx: OpContext, inner: dict[str, Any], verbosity: str
) -> dict[str, Any]:
    started = time.monotonic()
    name = next(iter(inner))
    coll = _collection(ctx, inner, name)
    query = get_doc(inner, "query", {}) or {}
    sort = get_doc(inner, "sort")
    access, rows = _access(ctx, coll, query, 0 if sort else 1)
    if sort:
        ordered = sort_docs([d for _, d in rows], sort, ctx.collation)
        access = _wrap("SORT", access, min(1, len(rows)), sortPattern=sort, limitAmount=1)
        rows = [(None, d) for d in ordered[:1]]
    rows = rows[:1]
    if inner.get("remove"):
        plan = _wrap("DELETE", access, 0)
        plan.exec_extra["nWouldDelete"] = len(rows)
    else:
        plan = _wrap("UPDATE", access, 0)
        plan.exec_extra.update(
            {
                "nMatched": len(rows),
                "nWouldModify": _would_modify(ctx, rows, query, inner),
                "nWouldUpsert": int(not rows and bool(inner.get("upsert"))),
            }
        )
    return _reply(ctx, inner, verbosity, plan, started, parsedQuery=_parsed(query))


def explain_aggregate(ctx: OpContext, inner: dict[str, Any], verbosity: str) -> dict[str, Any]:
    """An aggregate's plan: its leading `$match` stages pushed down into the collection
    read (the `$cursor` stage); a pipeline that is only those answers like a find
    [srv:db/pipeline/pipeline_d.cpp, db/query/explain.cpp]. Also `aggregate` with
    `explain: true` (verbosity queryPlanner)."""
    started = time.monotonic()
    pipeline = inner.get("pipeline")
    if not isinstance(pipeline, list) or not all(
        isinstance(s, dict) and len(s) == 1 for s in pipeline
    ):
        raise CommandError(14, "'pipeline' option must be specified as an array")
    target = inner.get("aggregate")
    if not isinstance(target, str):
        return {"explainVersion": "1", "stages": list(pipeline), **_footer(ctx, inner)}
    coll = _collection(ctx, inner, "aggregate")
    query: dict[str, Any] = {}
    rest = list(pipeline)
    while rest and "$match" in rest[0] and isinstance(rest[0]["$match"], dict):
        match = rest.pop(0)["$match"]
        query = {"$and": [query, match]} if query else dict(match)
    try:
        engine.run_pipeline([], [{"$match": query}] if query else [])
    except engine.EngineError as exc:
        raise engine_error(exc) from exc
    plan, _ = _access(ctx, coll, query)
    if not rest:
        return _reply(ctx, inner, verbosity, plan, started, parsedQuery=_parsed(query))
    cursor: dict[str, Any] = {
        "queryPlanner": _planner(f"{ctx.db}.{target}", plan, {"parsedQuery": _parsed(query)})
    }
    if verbosity != "queryPlanner":
        cursor["executionStats"] = _execution(plan, started, verbosity)
    stages: list[dict[str, Any]] = [{"$cursor": cursor}]
    stages.extend(rest)
    reply: dict[str, Any] = {"explainVersion": "1", "stages": stages}
    reply.update(_footer(ctx, inner))
    return reply


_EXPLAINERS = {
    "find": _explain_find,
    "count": _explain_count,
    "distinct": _explain_distinct,
    "update": _explain_update,
    "delete": _explain_delete,
    "findAndModify": _explain_find_and_modify,
    "findandmodify": _explain_find_and_modify,
}

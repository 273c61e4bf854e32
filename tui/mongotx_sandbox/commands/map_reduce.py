"""mapReduce with `out: {inline: 1}`, the user's functions run in a real JavaScript engine
(engine/js.py) as mongod runs them in SpiderMonkey.

mongod 8.0 runs mapReduce as an aggregation [srv:db/commands/query_cmd/map_reduce_agg.cpp,
mr_common.cpp translateFromMR]: $match (query), $sort, $limit, then map per document
($_internalJsEmit), $group by the emitted key with reduce ($_internalJsReduce), then
finalize ($function). The reply is `{results: [{_id, value}], ok}`: no `counts` or
`timeMillis` since 4.4, and `verbose` is ignored [manual: mapReduce, "Output"].

Only inline output runs here; `out` naming a collection (string, replace, merge, reduce)
is parsed as mongod parses it [map_reduce_out_options.cpp] and then refused with 115
CommandNotSupported: the sandbox does not write map-reduce output collections.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Hashable
from typing import Any

import bson

from .. import engine
from ..access import OpContext, engine_error
from ..engine import js
from ..errors import CommandError
from ..wire import MAX_BSON_OBJECT_SIZE
from . import map_reduce_js as mrjs
from .common import GENERIC_ARGUMENTS, coll_name, get_doc, integer_arg, sort_docs
from .registry import command

_FIELDS = frozenset(
    {
        "map",
        "reduce",
        "out",
        "query",
        "sort",
        "collation",
        "limit",
        "finalize",
        "scope",
        "verbose",
        "bypassDocumentValidation",
        "jsMode",
    }
)
# Documents (map) or keys (reduce, finalize) per call into the engine: few crossings, and a
# runaway function is still stopped by the per-call time limit.
_CHUNK = 1000


@command("mapReduce", "mapreduce")
async def map_reduce(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Refused in a transaction (263) and with a txnNumber outside one (50768) by dispatch,
    as mongod's command table does."""
    _check_read_concern(body)
    key = "mapReduce" if "mapReduce" in body else "mapreduce"
    name = coll_name(body, key)
    job = _parse(body)
    ns = f"{ctx.db}.{name}"
    coll = ctx.collection(ctx.db, name)
    if coll is not None and coll.is_view:
        raise CommandError(166, "mapReduce on a view is not supported")
    ctx.use_collation(coll, body.get("collation"))
    docs = [d for _, d in await ctx.find_off_loop(coll, job["query"])]
    docs = sort_docs(docs, job["sort"], ctx.collation)
    if job["limit"] is not None:
        docs = docs[: job["limit"]]
    try:
        results = await _run(ctx, job, docs)
    except CommandError as exc:
        # [map_reduce_agg.cpp runAggregationMapReduce: e.addContext(...)]
        exc.message = f"Executor error during MapReduce command on namespace: {ns} :: caused by :: {exc.message}"
        raise
    reply = {"results": results, "ok": 1.0}
    size = len(bson.encode(reply))
    if size > MAX_BSON_OBJECT_SIZE:
        raise CommandError(
            10334,
            f"mapReduce command failed :: caused by :: BSONObj size: {size} (0x{size:X}) is "
            f"invalid. Size must be between 0 and {MAX_BSON_OBJECT_SIZE}(16MB)",
            code_name_override="BSONObjectTooLarge",
        )
    return reply


def _check_read_concern(body: dict[str, Any]) -> None:
    """Only levels local and available, and no afterClusterTime (no causally consistent
    mapReduce since 4.2) [srv:db/commands/query_cmd/map_reduce_command_base.h
    supportsReadConcern, allowsAfterClusterTime; db/read_concern_mongod.cpp]."""
    rc = body.get("readConcern")
    if not isinstance(rc, dict):
        return
    level = rc.get("level")
    if level is not None and level not in ("local", "available"):
        raise CommandError(
            72, f'Command mapReduce does not support {{ readConcern: {{ level: "{level}" }} }}'
        )
    if "afterClusterTime" in rc:
        raise CommandError(72, "afterClusterTime is not allowed for this command")


def _parse(body: dict[str, Any]) -> dict[str, Any]:
    """The command's fields as mongod's IDL parser checks them [map_reduce.idl, strict]."""
    for field in body:
        if (
            field not in _FIELDS
            and field not in GENERIC_ARGUMENTS
            and field not in ("mapReduce", "mapreduce")
        ):
            raise CommandError(40415, f"BSON field 'mapReduce.{field}' is an unknown field.")
    for field in ("map", "reduce", "out"):
        if field not in body:
            raise CommandError(
                40414, f"BSON field 'mapReduce.{field}' is missing but a required field"
            )
    job: dict[str, Any] = {
        "map": _code(body, "map"),
        "reduce": _code(body, "reduce"),
        "finalize": None if body.get("finalize") is None else _code(body, "finalize"),
    }
    _check_out(body["out"])
    for field in ("query", "sort", "collation"):
        _typed(body, field, dict, "object")
    for field in ("verbose", "bypassDocumentValidation", "jsMode"):
        _typed(body, field, bool, "bool")
    scope = body.get("scope")
    if scope is not None and not isinstance(scope, dict):
        raise CommandError(2, "'scope' must be an object")  # map_reduce_global_variable_scope.h
    job["scope"] = scope or {}
    job["query"] = get_doc(body, "query") or {}
    sort = get_doc(body, "sort")
    if sort is not None and not sort:
        # [mr_common.cpp interpretTranslationError, 15976]
        raise CommandError(15976, "The mapReduce sort option must have at least one sort key")
    job["sort"] = sort
    limit = None if body.get("limit") is None else integer_arg(body["limit"], "limit")
    if limit is not None and limit <= 0:
        raise CommandError(15958, "The limit specified to mapReduce must be positive")
    job["limit"] = limit
    return job


def _code(body: dict[str, Any], field: str) -> str:
    """A function as a string or BSON Code [map_reduce_javascript_code.h]."""
    value = body[field]
    if not isinstance(value, str):  # bson.code.Code is a str subclass
        raise CommandError(2, f"'{field}' must be of string or code type")
    return str(value)


def _typed(body: dict[str, Any], field: str, kind: type, name: str) -> None:
    value = body.get(field)
    if value is not None and not isinstance(value, kind):
        raise CommandError(
            14,
            f"BSON field 'mapReduce.{field}' is the wrong type '{engine.type_name(value)}', "
            f"expected type '{name}'",
        )


def _check_out(out: Any) -> None:
    """`out` parsed as MapReduceOutOptions::parseFromBSON does; only inline runs here."""
    if isinstance(out, dict) and "inline" in out:
        if len(out) != 1:
            raise CommandError(72, "'inline' must be specified alone")
        number = out["inline"]
        if isinstance(number, bool) or not isinstance(number, int | float) or number != 1:
            raise CommandError(2, "'inline' takes only numeric '1'")
        return
    if isinstance(out, dict):
        target = next((k for k in ("replace", "merge", "reduce") if k in out), None)
        if target is None:
            raise CommandError(2, "'out' requires 'replace', 'merge' or 'reduce'")
        if not isinstance(out[target], str):
            raise CommandError(
                2, f"'{target}' supports only string consisting of output collection name"
            )
        allowed = {target, "db", "sharded", "nonAtomic"}
        if set(out) - allowed:
            raise CommandError(
                2,
                "'out' supports only output type with collection name, optional 'sharded' and "
                "optional 'db'",
            )
        shown = f"{{{target}: ...}}"
    elif isinstance(out, str):
        shown = "a collection name"
    else:
        raise CommandError(2, "'out' must be either a string or an object")
    raise CommandError(
        115,
        f"mapReduce with out: {shown} is not supported by the mongotx sandbox: only "
        "out: {inline: 1} runs here (an aggregation with $group and $merge writes a collection)",
    )


async def _run(ctx: OpContext, job: dict[str, Any], docs: list[dict[str, Any]]) -> list[Any]:
    params = ctx.state.parameters
    heap_mb = int(params.get("internalQueryJavaScriptHeapSizeLimitMB", 100))
    try:
        runtime = await js.JsRuntime.open(heap_mb * 1024 * 1024)
    except js.JsUnavailable:
        # As a mongod without its JavaScript engine [srv:db/commands/map_reduce*].
        raise CommandError(16149, "cannot run map reduce without the js engine") from None
    async with runtime:
        calls = _Calls(ctx, runtime)
        await calls.run(mrjs.PRELUDE)
        setup = {"fns": {k: job[k] for k in ("map", "reduce", "finalize")}, "scope": job["scope"]}
        await calls.call("__setup", mrjs.dumps(setup))
        groups: dict[Hashable, tuple[Any, list[Any]]] = {}
        for start in range(0, len(docs), _CHUNK):
            for emits in await calls.call("__map", mrjs.dumps(docs[start : start + _CHUNK])):
                for key, value in emits:
                    _group(groups, key, value, ctx.collation)
        reduced = await _reduce(ctx, calls, list(groups.values()))
        if job["finalize"] is not None:
            reduced = await _each(calls, "__finalize", reduced)
    pairs = sorted(reduced, key=functools.cmp_to_key(_compare_keys))
    return [{"_id": key, "value": value} for key, value in pairs]


def _group(
    groups: dict[Hashable, tuple[Any, list[Any]]],
    key: Any,
    value: Any,
    collation: dict[str, Any] | None,
) -> None:
    """Keys group as $group's do, under the command's collation (map_reduce_agg.cpp gives
    the pipeline the collation's collator)."""
    try:
        canonical = engine.canonical_key(key, collation=collation)
    except engine.EngineError as exc:
        raise engine_error(exc) from exc
    entry = groups.get(canonical)
    if entry is None:
        groups[canonical] = (key, [value])
    else:
        entry[1].append(value)


async def _reduce(
    ctx: OpContext, calls: _Calls, groups: list[tuple[Any, list[Any]]]
) -> list[tuple[Any, Any]]:
    """reduce(key, values) for every key, values last-emitted first, as
    AccumulatorInternalJsReduce::getValue passes them [srv:db/pipeline/accumulator_js_reduce.cpp].
    A key with one value is reduced too, unless mrEnableSingleReduceOptimization is set
    (the pre-4.4 behaviour the manual still describes; SERVER-68766)."""
    skip_single = bool(ctx.state.parameters.get("mrEnableSingleReduceOptimization"))
    out: list[tuple[Any, Any]] = []
    pending: list[tuple[Any, list[Any]]] = []
    for key, values in groups:
        if skip_single and len(values) == 1:
            out.append((key, values[0]))
        else:
            pending.append((key, values[::-1]))
    out.extend(await _each(calls, "__reduce", pending))
    return out


async def _each(
    calls: _Calls, function: str, pairs: list[tuple[Any, Any]]
) -> list[tuple[Any, Any]]:
    """`function(key, value)` for each pair, in chunks: (key, result) pairs."""
    out = []
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start : start + _CHUNK]
        results = await calls.call(function, mrjs.dumps([list(p) for p in chunk]))
        out.extend((key, result) for (key, _), result in zip(chunk, results, strict=True))
    return out


def _compare_keys(a: tuple[Any, Any], b: tuple[Any, Any]) -> int:
    try:
        return engine.compare_values(a[0], b[0])
    except engine.EngineError:
        return 0


class _Calls:
    """Calls into the runtime, each bounded by the command's maxTimeMS (50 MaxTimeMSExpired)
    and by internalQueryJavaScriptFnTimeoutMillis (11601 Interrupted, the server's
    JavaScript deadline [srv:db/query/query_knobs.idl; scripting/mozjs/implscope.cpp
    kill()]); the user's exceptions come back as their server error."""

    def __init__(self, ctx: OpContext, runtime: js.JsRuntime) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.fn_limit = (
            int(ctx.state.parameters.get("internalQueryJavaScriptFnTimeoutMillis", 60_000)) / 1000
        )

    def _timeout(self) -> tuple[float, bool]:
        """The time this call may take, and whether maxTimeMS is what bounds it."""
        if self.ctx.op is not None and self.ctx.op.killed:
            # killOp cancels the task; this catches a kill landing between two calls.
            raise CommandError(11601, "operation was interrupted")
        if self.ctx.deadline is None:
            return self.fn_limit, False
        remaining = self.ctx.deadline - time.monotonic()
        if remaining <= 0:
            raise CommandError(50, "operation exceeded time limit")
        return (remaining, True) if remaining < self.fn_limit else (self.fn_limit, False)

    async def run(self, script: str) -> None:
        timeout, _ = self._timeout()
        await self._guard(self.runtime.run(script, timeout), False)

    async def call(self, function: str, argument: str) -> Any:
        timeout, by_deadline = self._timeout()
        text = await self._guard(self.runtime.call(function, argument, timeout), by_deadline)
        reply = mrjs.loads(text)
        if "error" in reply:
            code, message = reply["error"]
            raise CommandError(int(code), str(message))
        return reply["ok"]

    @staticmethod
    async def _guard(awaitable: Any, by_deadline: bool) -> Any:
        try:
            return await awaitable
        except js.JsTimeout:
            if by_deadline:
                raise CommandError(50, "operation exceeded time limit") from None
            raise CommandError(11601, "JavaScript execution interrupted") from None
        except js.JsOutOfMemory:
            raise CommandError(139, "Out of memory") from None
        except js.JsFailed:
            raise CommandError(139, "Unknown Failure from JSInterpreter") from None

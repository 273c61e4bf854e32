"""mapReduce with inline output, the user's functions run in a JavaScript engine (issue 17:
commands_not_allowed_in_txn.js runs it outside a transaction, where it must succeed).

Semantics from the server's aggregation-based mapReduce (map_reduce_agg.cpp, mr_common.cpp,
accumulator_js_reduce.cpp) and the manual's mapReduce page ("Output": no counts/timeMillis
since 4.4).
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bson.binary import Binary
from bson.code import Code
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.timestamp import Timestamp
from pymongo import MongoClient
from pymongo.errors import OperationFailure

NOOP_REDUCE = Code("function(key, values) { return values[0]; }")


def _mr(coll, map_fn: str, reduce_fn: str = NOOP_REDUCE, **options: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return coll.database.command(
        "mapReduce",
        coll.name,
        map=Code(map_fn),
        reduce=Code(reduce_fn),
        out={"inline": 1},
        **options,
    )


def _failure(coll, map_fn: str, reduce_fn: str = NOOP_REDUCE, **options: Any) -> OperationFailure:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as info:
        _mr(coll, map_fn, reduce_fn, **options)
    return info.value


def _soon(probe: Callable[[], Any], what: str) -> Any:
    """Poll `probe` until it returns something truthy (a generous deadline, no sleeps)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
    raise AssertionError(f"never saw {what}")


@pytest.fixture
def parameters(client: MongoClient) -> Iterator[Callable[..., None]]:
    """setParameter for one test; the defaults come back after it."""
    changed: dict[str, Any] = {}

    def set_(**values: Any) -> None:
        for name, value in values.items():
            was = client.admin.command("setParameter", 1, **{name: value})["was"]
            changed.setdefault(name, was)

    yield set_
    for name, was in changed.items():
        client.admin.command("setParameter", 1, **{name: was})


def test_word_count_with_emit_reduce_and_finalize(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"text": "the cat the hat"}, {"text": "the bat"}, {"text": ""}])
    reply = _mr(
        coll,
        "function() { this.text.split(' ').forEach(function(w) { if (w) emit(w, 1); }); }",
        "function(key, counts) { return Array.sum(counts); }",
        finalize=Code("function(key, n) { return {word: key, n: n, plural: n > 1}; }"),
        verbose=True,  # ignored since 4.4: no timing in the reply
    )
    assert set(reply) >= {"results", "ok"}
    assert not {"counts", "timeMillis", "timing"} & set(reply)
    assert sorted(reply["results"], key=lambda r: r["_id"]) == [
        {"_id": "bat", "value": {"word": "bat", "n": 1.0, "plural": False}},
        {"_id": "cat", "value": {"word": "cat", "n": 1.0, "plural": False}},
        {"_id": "hat", "value": {"word": "hat", "n": 1.0, "plural": False}},
        {"_id": "the", "value": {"word": "the", "n": 3.0, "plural": True}},
    ]


def test_functions_as_strings_and_scope_variables(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"x": 1}, {"x": 2}])
    reply = coll.database.command(
        "mapReduce",
        coll.name,
        map="function() { emit(label, this.x * factor); }",
        reduce="function(k, vs) { return Array.sum(vs); }",
        out={"inline": 1},
        scope={"factor": 10, "label": "total"},
    )
    assert reply["results"] == [{"_id": "total", "value": 30.0}]


def test_query_sort_and_limit_choose_the_input(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"n": n, "even": n % 2 == 0} for n in range(1, 11)])
    reply = _mr(
        coll,
        "function() { emit(this.n, 1); }",
        query={"even": True},
        sort={"n": -1},
        limit=3,
    )
    assert sorted(r["_id"] for r in reply["results"]) == [6.0, 8.0, 10.0]


def test_keys_group_under_the_collation(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"w": "Apple"}, {"w": "apple"}, {"w": "pear"}])
    reply = _mr(
        coll,
        "function() { emit(this.w, 1); }",
        "function(k, vs) { return Array.sum(vs); }",
        collation={"locale": "en", "strength": 2},
    )
    assert sorted(r["value"] for r in reply["results"]) == [1.0, 2.0]


def test_reduce_runs_for_a_single_value_unless_the_pre_44_optimization_is_on(
    coll, parameters
) -> None:  # type: ignore[no-untyped-def]
    """mongod 8.0 reduces every key (AccumulatorInternalJsReduce::getValue); the manual's
    "not called for a single value" holds only with mrEnableSingleReduceOptimization."""
    coll.insert_many([{"k": "one"}, {"k": "two"}, {"k": "two"}])
    map_fn = "function() { emit(this.k, 1); }"
    reduce_fn = "function(key, values) { return {reduced: values.length}; }"
    results = {r["_id"]: r["value"] for r in _mr(coll, map_fn, reduce_fn)["results"]}
    assert results == {"one": {"reduced": 1.0}, "two": {"reduced": 2.0}}
    parameters(mrEnableSingleReduceOptimization=True)
    results = {r["_id"]: r["value"] for r in _mr(coll, map_fn, reduce_fn)["results"]}
    assert results == {"one": 1.0, "two": {"reduced": 2.0}}


def test_bson_types_cross_into_javascript_and_back(coll) -> None:  # type: ignore[no-untyped-def]
    oid = ObjectId()
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000)
    doc = {
        "_id": 1,
        "i": 5,
        "l": Int64(7),
        "d": 2.5,
        "o": oid,
        "t": when,
        "b": Binary(b"\x01\x02", 0),
    }
    coll.insert_one(doc)
    reply = _mr(
        coll,
        "function() { emit(this._id, this); emit('n', this.i);"
        " emit('types', [this.l instanceof NumberLong, this.l + 1, this.o.str, this.t.getTime()]); }",
    )
    results = {r["_id"]: r["value"] for r in reply["results"]}
    # An unchanged document keeps its types (int32 stays int32: the writer's original-parent rule).
    assert results[1.0] == {**doc, "b": b"\x01\x02"}  # pymongo reads subtype 0 as bytes
    assert type(results[1.0]["i"]) is int
    assert type(results[1.0]["l"]) is Int64
    # A bare JavaScript number is a double.
    assert results["n"] == 5.0 and type(results["n"]) is float
    assert results["types"] == [True, 8.0, str(oid), 1714979289123.0]


def test_an_exception_in_map_is_its_javascript_error(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"x": 1})
    error = _failure(coll, "function() { throw new Error('boom'); }")
    assert error.code == 139 and error.details is not None
    assert error.details["codeName"] == "JSInterpreterFailure"
    assert error.details["errmsg"] == (
        f"Executor error during MapReduce command on namespace: {coll.full_name} :: caused by "
        ":: uncaught exception: Error: boom"
    )
    assert _failure(coll, "function() { throw 5; }").code == 8  # not an object: UnknownError
    syntax = _failure(coll, "function() { x y }")
    assert syntax.code == 139 and "SyntaxError" in str(syntax)
    assert _failure(coll, "function() { emit(1); }").code == 31220  # emit takes 2 args


def test_bad_arguments_are_refused_as_mongod_parses_them(coll) -> None:  # type: ignore[no-untyped-def]
    db = coll.database
    cases = [
        ({"map": "function(){}", "reduce": "function(){}"}, 40414),  # out missing
        ({"map": 5, "reduce": "function(){}", "out": {"inline": 1}}, 2),
        ({"map": "f", "reduce": "f", "out": {"inline": 1}, "bogus": 1}, 40415),
        ({"map": "f", "reduce": "f", "out": {"inline": 1, "db": "x"}}, 72),
        ({"map": "f", "reduce": "f", "out": 5}, 2),
        ({"map": "f", "reduce": "f", "out": {"inline": 1}, "limit": 0}, 15958),
        ({"map": "f", "reduce": "f", "out": {"inline": 1}, "sort": {}}, 15976),
        # Read concern: local and available only, no afterClusterTime (map_reduce_command_base.h).
        (
            {"map": "f", "reduce": "f", "out": {"inline": 1}, "readConcern": {"level": "majority"}},
            72,
        ),
        (
            {
                "map": "f",
                "reduce": "f",
                "out": {"inline": 1},
                "readConcern": {"afterClusterTime": Timestamp(1, 1)},
            },
            72,
        ),
        # Output to a collection: parsed, then not supported by the sandbox.
        ({"map": "f", "reduce": "f", "out": {"replace": "target"}}, 115),
        ({"map": "f", "reduce": "f", "out": "target"}, 115),
    ]
    db.create_collection(f"{coll.name}_view", viewOn=coll.name, pipeline=[])
    with pytest.raises(OperationFailure) as info:
        db.command("mapReduce", f"{coll.name}_view", map="f", reduce="f", out={"inline": 1})
    assert info.value.code == 166  # "mapReduce on a view is not supported"
    db.drop_collection(f"{coll.name}_view")
    for fields, code in cases:
        with pytest.raises(OperationFailure) as info:
            db.command({"mapReduce": coll.name, **fields})
        assert info.value.code == code, fields


def test_a_runaway_map_is_stopped_by_max_time_ms_while_others_are_served(coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"x": 1})
    outcome: dict[str, Any] = {}

    def runaway() -> None:
        with MongoClient(uri) as other:
            try:
                _mr(
                    other[coll.database.name][coll.name],
                    "function() { while (true) {} }",
                    maxTimeMS=4000,
                )
            except OperationFailure as exc:
                outcome["error"] = exc

    thread = threading.Thread(target=runaway)
    thread.start()
    with MongoClient(uri) as watcher:
        _soon(
            lambda: list(
                watcher.admin.aggregate(
                    [{"$currentOp": {}}, {"$match": {"command.mapReduce": coll.name}}]
                )
            ),
            "the mapReduce running",
        )
        # The JavaScript runs off the server's event loop: another client is answered.
        assert watcher.admin.command("ping")["ok"] == 1
        assert "error" not in outcome  # the mapReduce was still running meanwhile
    thread.join(60)
    assert outcome["error"].code == 50


def test_killop_and_the_javascript_time_limit_stop_a_runaway_map(
    client: MongoClient, coll, uri: str, parameters
) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"x": 1})
    outcome: dict[str, Any] = {}

    def runaway() -> None:
        with MongoClient(uri) as other:
            try:
                _mr(other[coll.database.name][coll.name], "function() { while (true) {} }")
            except OperationFailure as exc:
                outcome["error"] = exc

    thread = threading.Thread(target=runaway)
    thread.start()
    [op] = _soon(
        lambda: list(
            client.admin.aggregate(
                [{"$currentOp": {}}, {"$match": {"command.mapReduce": coll.name}}]
            )
        ),
        "the mapReduce running",
    )
    client.admin.command("killOp", op=op["opid"])
    thread.join(60)
    assert outcome["error"].code == 11601
    # internalQueryJavaScriptFnTimeoutMillis bounds one call into JavaScript (11601).
    parameters(internalQueryJavaScriptFnTimeoutMillis=200)
    error = _failure(coll, "function() { while (true) {} }")
    assert error.code == 11601 and "JavaScript execution interrupted" in str(error)


def test_a_heap_past_its_limit_is_out_of_memory(coll, parameters) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"x": 1})
    parameters(internalQueryJavaScriptHeapSizeLimitMB=20)
    error = _failure(
        coll, "function() { var a = []; while (true) a.push('x'.repeat(1000) + Math.random()); }"
    )
    assert error.code == 139 and "Out of memory" in str(error)


def test_refused_in_a_transaction_with_263(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"x": 1})
    with client.start_session() as s:
        s.start_transaction()
        coll.insert_one({"x": 2}, session=s)
        with pytest.raises(OperationFailure) as info:
            coll.database.command(
                "mapReduce",
                coll.name,
                map="function(){}",
                reduce="function(){}",
                out={"inline": 1},
                session=s,
            )
        assert info.value.code == 263
        assert "Cannot run 'mapReduce' in a multi-document transaction." in str(info.value)
        s.commit_transaction()  # the refusal left the transaction open, as mongod does
    assert coll.count_documents({}) == 2


_LAZY = """
import sys
from pymongo import MongoClient
from mongotx_sandbox import ThreadedSandbox

with ThreadedSandbox() as uri, MongoClient(uri) as client:
    client.test.lazy.insert_one({"x": 1})
    before = "py_mini_racer" in sys.modules
    reply = client.test.command(
        "mapReduce", "lazy", map="function() { emit(this.x, 1); }",
        reduce="function(k, v) { return 1; }", out={"inline": 1},
    )
    print(before, "py_mini_racer" in sys.modules, reply["results"])
"""


def test_the_javascript_engine_loads_on_the_first_map_reduce_only() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _LAZY], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.strip() == "False True [{'_id': 1.0, 'value': 1.0}]"


def test_hostile_javascript_fails_its_command_only(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"x": 1})
    cyclic = _failure(coll, "function() { var a = {}; a.self = a; emit(1, a); }")
    assert cyclic.code == 139 and "RangeError" in str(cyclic)
    huge = _failure(coll, "function() { emit(1, 'x'.repeat(1 << 29)); }")
    assert huge.code == 139 and "RangeError" in str(huge)
    # The globals are the user's to change; a lone surrogate is U+FFFD in UTF-8.
    coll.insert_one({"x": 2})
    reply = _mr(
        coll,
        "function() { JSON = Object = Array = Number = null; emit('\\ud800', {n: [this.x]}); }",
        "function(k, vs) { return vs.length; }",
    )
    assert reply["results"] == [{"_id": "\ufffd", "value": 2.0}]
    assert coll.database.command("ping")["ok"] == 1

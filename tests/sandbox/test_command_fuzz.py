"""Well-formed messages with nonsense commands: every reply is a MongoDB error with a real
code (never the sandbox's last-resort InternalError 1) and MongoDB's words (never Python's),
and the server keeps serving. The values include what fuzzing found Python choking on
(issue 16, item 6): non-finite numbers, JavaScript code, dates outside Python's range,
wrong-typed session ids and cursor ids, a cluster time at the top of its range."""

from __future__ import annotations

import copy
import math
import random
from typing import Any

from bson import Code, Decimal128, MaxKey, MinKey, Regex
from bson.binary import Binary
from bson.datetime_ms import DatetimeMS
from bson.int64 import Int64
from bson.timestamp import Timestamp

from .python_text import python_text
from .rawclient import RawClient

SCALARS = [None, 0, -1, 1.5, "x", "", True, Int64(5), "$x"]
HOSTILE = [
    math.nan,
    math.inf,
    -math.inf,
    Code("x"),
    DatetimeMS(2**63 - 1),
    DatetimeMS(-(2**63)),
    Int64(2**63 - 1),
    Decimal128("NaN"),
    Timestamp(2**32 - 1, 2**32 - 1),
    Binary(b"x", 0),
    MinKey(),
    MaxKey(),
    Regex("("),
    {"id": "x"},
    {"clusterTime": Timestamp(2**32 - 1, 0)},
    ["x"],
    [1.5, None],
    [{"$changeStream": 1.5}],
    [{"$limit": math.nan}],
    [{"_id": DatetimeMS(2**63 - 1)}],
]
DOCS = [{}, {"a": 1}, {"$bad": 1}, {"q": 1}, {"$set": 5}, {"_id": []}, {"a": {"$gt": []}}]
LISTS = [
    [],
    [1],
    [{}],
    [None],
    [{"$match": 5}],
    [{"$group": {}}],
    [{"q": 5, "u": 3}],
    [{"q": {}, "u": {"$set": 5}}],
    [{"q": {}, "limit": 7}],
    [{"$unknownStage": 1}],
    [{"key": 5}],
    [{"key": {"a": 1}, "name": 3}],
    [{"insert": 9, "document": {}}],
]
VALUES = SCALARS + HOSTILE + DOCS + LISTS
COMMANDS = [
    "find",
    "insert",
    "update",
    "delete",
    "findAndModify",
    "aggregate",
    "count",
    "distinct",
    "create",
    "drop",
    "createIndexes",
    "listIndexes",
    "dropIndexes",
    "getMore",
    "killCursors",
    "listCollections",
    "collMod",
    "renameCollection",
    "bulkWrite",
    "commitTransaction",
    "abortTransaction",
    "endSessions",
    "killSessions",
    "configureFailPoint",
    "getParameter",
    "setParameter",
    "ping",
    "hello",
]
FIELDS = [
    "filter",
    "documents",
    "updates",
    "deletes",
    "query",
    "update",
    "pipeline",
    "cursor",
    "key",
    "indexes",
    "index",
    "sort",
    "projection",
    "limit",
    "skip",
    "batchSize",
    "new",
    "remove",
    "upsert",
    "fields",
    "ops",
    "nsInfo",
    "to",
    "mode",
    "data",
    "collection",
    "readConcern",
    "writeConcern",
    "maxTimeMS",
    "let",
    "collation",
    "arrayFilters",
    "hint",
    "ordered",
    "lsid",
    "txnNumber",
    "autocommit",
    "startTransaction",
    "cursors",
    "$clusterTime",
    "transactionLifetimeLimitSeconds",
    "comment",
]


def _messages(reply: dict[str, Any]) -> list[str]:
    """Every error message of a reply: the command's, its write errors', its wce's."""
    found = [reply.get("errmsg", "")]
    found += [e.get("errmsg", "") for e in reply.get("writeErrors") or []]
    found.append((reply.get("writeConcernError") or {}).get("errmsg", ""))
    return [m for m in found if isinstance(m, str) and m]


def test_nonsense_commands_get_real_errors(raw: RawClient) -> None:
    rng = random.Random(20261126)
    internal: dict[str, dict] = {}
    python: dict[str, dict] = {}
    for _ in range(3000):
        name = rng.choice(COMMANDS)
        body: dict = {name: rng.choice([*VALUES, "fuzz", "fuzz", "fuzz"])}
        for field in rng.sample(FIELDS, rng.randint(0, 4)):
            body[field] = rng.choice(VALUES)
        reply = raw.command(body, db=rng.choice(["fuzz", "admin"]))
        if reply.get("code") == 1:
            internal.setdefault(reply.get("errmsg", ""), body)
        for message in _messages(reply):
            if python_text(message):
                python.setdefault(message, body)
        # A fail point the fuzz may have set must not leak into later commands.
        raw.command({"configureFailPoint": "failCommand", "mode": "off"})
    assert not internal, internal
    assert not python, python
    assert raw.command({"ping": 1})["ok"] == 1


# Valid commands, so that a hostile value gets past the collection name to the option, the
# stage or the statement that reads it.
TEMPLATES: list[dict[str, Any]] = [
    {"find": "c", "filter": {"a": 1}, "sort": {"a": 1}, "projection": {"a": 1}, "limit": 2},
    {"find": "c", "skip": 1, "batchSize": 1, "hint": {"_id": 1}, "maxTimeMS": 1000},
    {"insert": "c", "documents": [{"a": 1}, {"_id": 5}], "ordered": True},
    {"update": "c", "updates": [{"q": {"a": 1}, "u": {"$set": {"b": 1}}, "upsert": True}]},
    {"update": "c", "updates": [{"q": {}, "u": [{"$set": {"b": 1}}], "multi": True}]},
    {"delete": "c", "deletes": [{"q": {"a": 1}, "limit": 1}]},
    {"findAndModify": "c", "query": {"a": 1}, "update": {"$inc": {"n": 1}}, "new": True},
    {"aggregate": "c", "pipeline": [{"$match": {}}, {"$limit": 5}], "cursor": {"batchSize": 2}},
    {"aggregate": "c", "pipeline": [{"$group": {"_id": "$a", "n": {"$sum": 1}}}], "cursor": {}},
    {"aggregate": "c", "pipeline": [{"$changeStream": {}}], "cursor": {}},
    {"count": "c", "query": {"a": 1}, "limit": 1, "skip": 0},
    {"distinct": "c", "key": "a", "query": {}},
    {"getMore": Int64(1), "collection": "c", "batchSize": 1},
    {"killCursors": "c", "cursors": [Int64(1)]},
    {"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1"}]},
    {"listIndexes": "c", "cursor": {"batchSize": 1}},
    {"create": "v", "viewOn": "c", "pipeline": [{"$match": {}}]},
    {"setParameter": 1, "transactionLifetimeLimitSeconds": 60},
    {"ping": 1, "$clusterTime": {"clusterTime": Timestamp(1, 1)}},
    {"endSessions": [{"id": Binary(bytes(16), 4)}]},
    {"find": "c", "lsid": {"id": Binary(bytes(16), 4)}, "txnNumber": Int64(1)},
]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place inside a command a value can be replaced: dict keys and list items."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        if prefix == () and key == 0:
            continue
        found.append((*prefix, key))
        if isinstance(child, dict | list) and child:
            found += _paths(child, (*prefix, key))
    return found


def _replace(body: Any, path: tuple, value: Any) -> None:
    """Put `value` at `path`, unless an earlier replacement took that place away."""
    for key in path:
        if not (isinstance(body, dict) and key in body) and not (
            isinstance(body, list) and isinstance(key, int) and key < len(body)
        ):
            return
        parent, body = body, body[key]
    parent[path[-1]] = value


def test_valid_commands_with_hostile_values_get_real_errors(raw: RawClient) -> None:
    rng = random.Random(20261204)
    raw.command({"insert": "c", "documents": [{"a": i} for i in range(3)]}, db="fuzz")
    internal: dict[str, dict] = {}
    python: dict[str, dict] = {}
    for _ in range(2000):
        body = copy.deepcopy(rng.choice(TEMPLATES))
        paths = [p for p in _paths(body) if p != (next(iter(body)),)]
        for path in rng.sample(paths, min(len(paths), rng.randint(1, 2))):
            _replace(body, path, copy.deepcopy(rng.choice(HOSTILE + SCALARS)))
        db = "admin" if next(iter(body)) in ("setParameter", "endSessions") else "fuzz"
        reply = raw.command(body, db=db)
        if reply.get("code") == 1:
            internal.setdefault(reply.get("errmsg", ""), body)
        for message in _messages(reply):
            if python_text(message):
                python.setdefault(message, body)
    assert not internal, internal
    assert not python, python
    assert raw.command({"ping": 1})["ok"] == 1

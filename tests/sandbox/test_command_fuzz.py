"""Well-formed messages with nonsense commands: every reply is a MongoDB error with a real
code (never the sandbox's last-resort InternalError 1), and the server keeps serving."""

from __future__ import annotations

import random

from bson.int64 import Int64

from .rawclient import RawClient

SCALARS = [None, 0, -1, 1.5, "x", "", True, Int64(5), "$x"]
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
VALUES = SCALARS + DOCS + LISTS
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
]


def test_nonsense_commands_get_real_errors(raw: RawClient) -> None:
    rng = random.Random(20261126)
    internal: dict[str, dict] = {}
    for _ in range(2500):
        name = rng.choice(COMMANDS)
        body: dict = {name: rng.choice([*VALUES, "fuzz", "fuzz", "fuzz"])}
        for field in rng.sample(FIELDS, rng.randint(0, 4)):
            body[field] = rng.choice(VALUES)
        reply = raw.command(body, db=rng.choice(["fuzz", "admin"]))
        if reply.get("code") == 1:
            internal.setdefault(reply.get("errmsg", ""), body)
        # A fail point the fuzz may have set must not leak into later commands.
        raw.command({"configureFailPoint": "failCommand", "mode": "off"})
    assert not internal, internal
    assert raw.command({"ping": 1})["ok"] == 1

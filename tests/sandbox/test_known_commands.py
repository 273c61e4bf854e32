"""Commands mongod has that the sandbox knows by name (issue 17, D15 neighbours): their
session rules come before anything else, as in mongod (commands_banning_txnnumber_outside_
transactions.js, commands_not_allowed_in_txn.js)."""

from __future__ import annotations

import hashlib

import pytest
from bson.binary import Binary
from bson.int64 import Int64
from pymongo import MongoClient
from pymongo.errors import OperationFailure


@pytest.mark.parametrize(
    "cmd",
    [
        {"explain": {"find": "c"}},
        {"filemd5": 1},
        {"listCommands": 1},
        {"mapReduce": "c"},
        {"applyOps": []},
        {"prepareTransaction": 1},
        {"coordinateCommitTransaction": 1, "participants": []},
    ],
)
def test_a_txn_number_outside_a_transaction_is_refused_first(client: MongoClient, cmd) -> None:  # type: ignore[no-untyped-def]
    with client.start_session() as s, pytest.raises(OperationFailure) as info:
        client.admin.command({**cmd, "txnNumber": Int64(0)}, session=s)
    assert info.value.code == 50768


@pytest.mark.parametrize("cmd", [{"ping": 1}, {"hello": 1}, {"buildInfo": 1}, {"filemd5": 1}])
def test_informational_commands_are_refused_inside_a_transaction(
    client: MongoClient, coll, cmd
) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({})
    with client.start_session() as s:
        s.start_transaction()
        coll.find_one(session=s)
        with pytest.raises(OperationFailure) as info:
            coll.database.command(cmd, session=s)
        assert info.value.code == 263
        assert "in a multi-document transaction" in str(info.value)
        s.abort_transaction()


def test_filemd5(coll) -> None:  # type: ignore[no-untyped-def]
    chunks = coll.database["fs.chunks"]
    chunks.delete_many({})
    chunks.insert_many(
        [
            {"files_id": 7, "n": 1, "data": Binary(b"world")},
            {"files_id": 7, "n": 0, "data": Binary(b"hello ")},
        ]
    )
    reply = coll.database.command({"filemd5": 7, "root": "fs"})
    assert reply["numChunks"] == 2
    assert reply["md5"] == hashlib.md5(b"hello world", usedforsecurity=False).hexdigest()
    empty = coll.database.command({"filemd5": 8})
    assert empty["numChunks"] == 0


def test_apply_ops_applies_crud_entries(coll) -> None:  # type: ignore[no-untyped-def]
    reply = coll.database.command(
        "applyOps",
        [
            {"op": "i", "ns": coll.full_name, "o": {"_id": 1, "a": 1}},
            {"op": "u", "ns": coll.full_name, "o2": {"_id": 1}, "o": {"$set": {"a": 2}}},
            {"op": "u", "ns": coll.full_name, "o2": {"_id": 0}, "o": {"$set": {"a": 5}}},
            {"op": "d", "ns": coll.full_name, "o": {"_id": 1}},
            {"op": "n", "ns": "", "o": {"msg": "noop"}},
        ],
    )
    assert reply["applied"] == 5 and reply["results"] == [True] * 5
    assert list(coll.find()) == [{"_id": 0, "a": 5}]


def test_a_read_once_find_is_refused_in_a_transaction_and_aborts_it(
    client: MongoClient, coll
) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({})
    with client.start_session() as s:
        s.start_transaction()
        with pytest.raises(OperationFailure) as info:
            coll.database.command("find", coll.name, readOnce=True, session=s)
        assert info.value.code == 263
        with pytest.raises(OperationFailure) as info:
            s.commit_transaction()
        assert info.value.code == 251

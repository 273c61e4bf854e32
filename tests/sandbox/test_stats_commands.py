"""dbStats, collStats, validate and listCommands (issue 17, D15): mongod's reply fields,
and dbStats never waits for an open transaction (dbstats_not_blocked_by_txn.js)."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure


def test_db_stats_counts_committed_documents_and_is_not_blocked(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i} for i in range(3)])
    coll.create_index("x")
    with client.start_session() as s:
        s.start_transaction()
        coll.insert_one({"_id": 99}, session=s)
        stats = coll.database.command("dbStats", maxTimeMS=10_000)
        s.commit_transaction()
    assert stats["db"] == coll.database.name
    assert stats["objects"] == 3  # the open transaction's insert is not committed yet
    assert stats["indexes"] >= 2 and stats["collections"] >= 1
    for field in ("avgObjSize", "dataSize", "storageSize", "indexSize", "totalSize"):
        assert stats[field] > 0, field
    assert stats["scaleFactor"] == 1 and stats["ok"] == 1.0
    lower = coll.database.command("dbstats", scale=1024)
    assert lower["scaleFactor"] == 1024
    with pytest.raises(OperationFailure) as info:
        coll.database.command("dbStats", scale=0)
    assert info.value.code == 2


def test_coll_stats(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i, "x": i} for i in range(4)])
    coll.create_index("x")
    stats = coll.database.command("collStats", coll.name)
    assert stats["ns"] == coll.full_name and stats["count"] == 4
    assert stats["nindexes"] == 2 and set(stats["indexSizes"]) == {"_id_", "x_1"}
    assert stats["size"] > 0 and stats["avgObjSize"] > 0 and stats["capped"] is False
    assert stats["totalSize"] == stats["storageSize"] + stats["totalIndexSize"]
    missing = coll.database.command("collStats", coll.name + "_missing")
    assert missing["count"] == 0 and missing["nindexes"] == 0


def test_validate(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i, "x": i} for i in range(5)])
    coll.create_index("x", sparse=True)
    coll.insert_one({"_id": 9})
    reply = coll.database.command("validate", coll.name)
    assert reply["valid"] is True and reply["nrecords"] == 6 and reply["errors"] == []
    assert reply["keysPerIndex"] == {"_id_": 6, "x_1": 5}
    with pytest.raises(OperationFailure) as info:
        coll.database.command("validate", coll.name + "_missing")
    assert info.value.code == 26


def test_list_commands(client: MongoClient) -> None:
    commands = client.admin.command("listCommands")["commands"]
    for name in ("find", "explain", "dbStats", "currentOp", "killOp", "listCommands", "validate"):
        assert name in commands, name
    assert commands["currentOp"]["adminOnly"] is True
    assert set(commands["find"]) >= {"help", "requiresAuth", "secondaryOk", "adminOnly"}


def test_stats_commands_are_refused_in_a_transaction(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({})
    with client.start_session() as s:
        for cmd in ({"dbStats": 1}, {"collStats": coll.name}, {"validate": coll.name}):
            s.start_transaction()
            coll.find_one(session=s)
            with pytest.raises(OperationFailure) as info:
                coll.database.command(cmd, session=s)
            assert info.value.code == 263, cmd
            s.abort_transaction()

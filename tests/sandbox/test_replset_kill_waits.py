"""killOp ends a replication wait: a read waiting for its afterClusterTime on a lagging
secondary fails with 11601 Interrupted [srv:db/commands/kill_op.cpp;
db/read_concern_mongod.cpp waitForReadConcern, an interruptible wait]."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient
from pymongo.write_concern import WriteConcern

from .background import in_thread
from .replset_helpers import ReplSet, rclient, rset, wait_for

__all__ = ["rclient", "rset"]


def _op(client: MongoClient, match: dict[str, Any]) -> dict[str, Any] | None:
    found = list(client.admin.aggregate([{"$currentOp": {}}, {"$match": match}]))
    return found[0] if found else None


def test_kill_op_ends_an_after_cluster_time_wait(rset: ReplSet, rclient: MongoClient) -> None:
    rset.on_loop(rset.rs.pause, 1)
    rclient.test.get_collection("c", write_concern=WriteConcern(w=1)).insert_one({"_id": 1})
    op_time = rclient.admin.command("ping")["operationTime"]
    member = rset.direct(1)
    find = {
        "find": "c",
        "filter": {"_id": 1},
        "readConcern": {"afterClusterTime": op_time},
        "$readPreference": {"mode": "secondary"},
    }
    thread, outcome = in_thread(lambda: member.test.command(find))
    op = wait_for(lambda: _op(member, {"command.find": "c"}), "the find waiting")
    member.admin.command("killOp", op=op["opid"])
    thread.join(60)
    assert not thread.is_alive()
    assert outcome["error"].code == 11601
    assert outcome["error"].details["codeName"] == "Interrupted"
    rset.on_loop(rset.rs.pause, 1, False)
    member.close()

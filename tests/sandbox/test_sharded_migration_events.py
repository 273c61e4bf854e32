"""A chunk migration is not an application write: the recipient's clone and the donor's
range deletion are marked fromMigrate, and change streams skip them — on the donor, on the
recipient, and through the router — unless a stream on a shard asks for
`showMigrationEvents` (refused at the router, code 31123). Real pymongo over sockets."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.change_stream import ChangeStream
from pymongo.errors import OperationFailure

from .sharded import shard_client

_DEADLINE_SECS = 30.0


def _sharded_on_shard0(router: MongoClient, db: str) -> None:
    """`db.docs` sharded on _id, its one chunk on shard0, documents 0..9 in it."""
    router.admin.command("enableSharding", db, primaryShard="shard0")
    router.admin.command("shardCollection", f"{db}.docs", key={"_id": 1})
    router[db].docs.insert_many([{"_id": i} for i in range(10)])


def _next_change(stream: ChangeStream) -> dict[str, Any]:
    """The stream's next event, waited for on the event itself (a generous deadline)."""
    deadline = time.monotonic() + _DEADLINE_SECS
    while time.monotonic() < deadline:
        change = stream.try_next()
        if change is not None:
            return change
    raise AssertionError("no change event arrived")


def _assert_insert_of(change: dict[str, Any], doc_id: Any) -> None:
    assert (change["operationType"], change["documentKey"]) == ("insert", {"_id": doc_id})


def test_donor_stream_skips_the_range_deletion(cluster, router) -> None:  # type: ignore[no-untyped-def]
    _sharded_on_shard0(router, "migdonor")
    with shard_client(cluster, "shard0") as s0, s0.migdonor.docs.watch() as stream:
        router.admin.command("moveRange", "migdonor.docs", min={"_id": 5}, toShard="shard1")
        router.migdonor.docs.insert_one({"_id": 1.5})  # the one real write, on shard0
        _assert_insert_of(_next_change(stream), 1.5)
        # The documents moved all the same, and the catalog says so.
        assert sorted(d["_id"] for d in s0.migdonor.docs.find()) == [0, 1, 1.5, 2, 3, 4]
    with shard_client(cluster, "shard1") as s1:
        assert sorted(d["_id"] for d in s1.migdonor.docs.find()) == [5, 6, 7, 8, 9]
    chunks = list(router.config.chunks.find({}, {"min": 1, "shard": 1, "_id": 0}))
    mine = [(c["min"], c["shard"]) for c in chunks if c.get("min") == {"_id": 5}]
    assert mine == [({"_id": 5}, "shard1")]


def test_recipient_stream_skips_the_clone(cluster, router) -> None:  # type: ignore[no-untyped-def]
    _sharded_on_shard0(router, "migrecipient")
    with shard_client(cluster, "shard1") as s1, s1.migrecipient.docs.watch() as stream:
        router.admin.command("moveRange", "migrecipient.docs", min={"_id": 5}, toShard="shard1")
        router.migrecipient.docs.insert_one({"_id": 7.5})  # the one real write, on shard1
        _assert_insert_of(_next_change(stream), 7.5)


def test_router_stream_skips_the_migration(router) -> None:  # type: ignore[no-untyped-def]
    _sharded_on_shard0(router, "migrouter")
    # One shard owns the collection when the stream opens: the router passes it to shard0.
    with router.migrouter.docs.watch() as stream:
        router.admin.command("moveChunk", "migrouter.docs", find={"_id": 0}, to="shard1")
        router.admin.command("moveChunk", "migrouter.docs", find={"_id": 0}, to="shard0")
        router.migrouter.docs.insert_one({"_id": 10})
        _assert_insert_of(_next_change(stream), 10)
    assert router.migrouter.docs.count_documents({}) == 11


def test_show_migration_events_on_a_shard(cluster, router) -> None:  # type: ignore[no-untyped-def]
    """A stream on the shard itself may ask for the migration's writes: the donor's range
    deletion then shows as deletes [srv:db/pipeline/change_stream_filter_helpers.cpp
    buildNotFromMigrateFilter, applied unless showMigrationEvents]."""
    _sharded_on_shard0(router, "migshow")
    with shard_client(cluster, "shard0") as s0:
        stage = {"$changeStream": {"showMigrationEvents": True}}
        opened = s0.migshow.command("aggregate", "docs", pipeline=[stage], cursor={})
        cid = opened["cursor"]["id"]
        router.admin.command("moveRange", "migshow.docs", min={"_id": 8}, toShard="shard1")
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + _DEADLINE_SECS
        while len(events) < 2 and time.monotonic() < deadline:
            more = s0.migshow.command("getMore", cid, collection="docs", maxTimeMS=500)
            events.extend(more["cursor"]["nextBatch"])
        s0.migshow.command("killCursors", "docs", cursors=[cid])
    assert [(e["operationType"], e["documentKey"]) for e in events] == [
        ("delete", {"_id": 8}),
        ("delete", {"_id": 9}),
    ]


def test_router_refuses_show_migration_events(router) -> None:  # type: ignore[no-untyped-def]
    stage = {"$changeStream": {"showMigrationEvents": True}}
    with pytest.raises(OperationFailure) as info:
        router.test.command("aggregate", "docs", pipeline=[stage], cursor={})
    assert info.value.code == 31123
    assert info.value.details is not None
    assert info.value.details["codeName"] == "Location31123"

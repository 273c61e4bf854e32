"""The sandbox as a sharded cluster (issue 15 item 1): the router's handshake, the config
catalog, targeting by shard key, broadcast, merged sort/limit/skip, getMore across shards,
moveChunk moving documents, hashed keys; real pymongo over sockets."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from mongotx_sandbox.sharding.cluster import ThreadedShardedSandbox

from .sharded import shard_client, split_at


@pytest.fixture(scope="module")
def people(cluster: ThreadedShardedSandbox) -> str:
    """test.people sharded on _id: [MinKey, 100) on shard0, [100, MaxKey) on shard1."""
    with MongoClient(cluster.uri) as c:
        split_at(c, "test.people", {"_id": 100}, "shard1")
        c.test.people.insert_many([{"_id": i, "n": i % 7} for i in range(0, 200, 5)])
    return "people"


def _fail_finds_on(cluster: ThreadedShardedSandbox, shard: str, on: bool) -> None:
    with shard_client(cluster, shard) as s:
        mode = {"times": 1000} if on else "off"
        data = {"failCommands": ["find"], "errorCode": 9}
        s.admin.command("configureFailPoint", "failCommand", mode=mode, data=data)


def test_hello_is_a_mongos(router: MongoClient) -> None:
    hello = router.admin.command("hello")
    assert hello["msg"] == "isdbgrid"
    assert "setName" not in hello and "hosts" not in hello
    assert router.topology_description.topology_type_name == "Sharded"


def test_moved_chunk_moves_its_documents(cluster, router, people) -> None:  # type: ignore[no-untyped-def]
    with shard_client(cluster, "shard0") as s0, shard_client(cluster, "shard1") as s1:
        low = [d["_id"] for d in s0.test.people.find().sort("_id", 1)]
        high = [d["_id"] for d in s1.test.people.find().sort("_id", 1)]
    assert low == list(range(0, 100, 5))
    assert high == list(range(100, 200, 5))
    chunks = list(router.config.chunks.find({}, {"min": 1, "max": 1, "shard": 1, "_id": 0}))
    assert (chunks[0]["max"], chunks[0]["shard"]) == ({"_id": 100}, "shard0")
    assert chunks[1]["min"] == {"_id": 100} and chunks[1]["shard"] == "shard1"
    coll = router.config.collections.find_one({"_id": "test.people"})
    assert coll is not None and coll["key"] == {"_id": 1}


def test_find_by_shard_key_goes_to_one_shard(cluster, router, people) -> None:  # type: ignore[no-untyped-def]
    _fail_finds_on(cluster, "shard1", True)
    try:
        assert router.test.people.find_one({"_id": 10}) == {"_id": 10, "n": 3}
        with pytest.raises(OperationFailure) as info:
            router.test.people.find_one({"n": 3})  # no shard key: every shard
        assert info.value.code == 9
    finally:
        _fail_finds_on(cluster, "shard1", False)


def test_insert_and_update_by_key_land_on_the_owning_shard(cluster, router, people) -> None:  # type: ignore[no-untyped-def]
    router.test.people.insert_one({"_id": 150.5, "n": -1})
    router.test.people.update_one({"_id": 150.5}, {"$set": {"n": -2}})
    with shard_client(cluster, "shard1") as s1, shard_client(cluster, "shard0") as s0:
        assert s1.test.people.find_one({"_id": 150.5}) == {"_id": 150.5, "n": -2}
        assert s0.test.people.find_one({"_id": 150.5}) is None
    assert router.test.people.delete_one({"_id": 150.5}).deleted_count == 1


def test_sort_limit_skip_merged_across_shards(router, people) -> None:  # type: ignore[no-untyped-def]
    coll = router.test.people
    got = [d["_id"] for d in coll.find({}, {"n": 0}).sort("_id", -1).skip(3).limit(4)]
    assert got == [180, 175, 170, 165]
    by_n = [(d["n"], d["_id"]) for d in coll.find({"n": {"$lt": 2}}).sort([("n", 1), ("_id", 1)])]
    expected = sorted((i % 7, i) for i in range(0, 200, 5) if i % 7 < 2)
    assert by_n == expected


def test_get_more_across_shards(router, people) -> None:  # type: ignore[no-untyped-def]
    cursor = router.test.people.find().sort("_id", 1).batch_size(3)
    assert [d["_id"] for d in cursor] == list(range(0, 200, 5))
    unsorted = sorted(d["_id"] for d in router.test.people.find().batch_size(4))
    assert unsorted == list(range(0, 200, 5))


def test_count_distinct_and_aggregate_merge(router, people) -> None:  # type: ignore[no-untyped-def]
    coll = router.test.people
    assert coll.count_documents({}) == 40
    assert coll.count_documents({"n": 0}) == len([i for i in range(0, 200, 5) if i % 7 == 0])
    assert router.test.command("count", "people", skip=35, limit=10)["n"] == 5
    assert coll.distinct("n") == list(range(7))
    groups = list(
        coll.aggregate([{"$group": {"_id": "$n", "c": {"$sum": 1}}}, {"$sort": {"_id": 1}}])
    )
    assert [g["c"] for g in groups] == [
        sum(1 for i in range(0, 200, 5) if i % 7 == k) for k in range(7)
    ]


def test_unmerged_stage_is_refused(router, people) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as info:
        list(
            router.test.people.aggregate(
                [{"$lookup": {"from": "x", "localField": "n", "foreignField": "n", "as": "x"}}]
            )
        )
    assert info.value.code == 20 and "$lookup" in str(info.value)


def test_unsharded_collection_lives_on_the_primary_shard(cluster, router) -> None:  # type: ignore[no-untyped-def]
    router.admin.command("enableSharding", "plain", primaryShard="shard1")
    router.plain.things.insert_one({"_id": 1})
    with shard_client(cluster, "shard1") as s1:
        assert s1.plain.things.find_one() == {"_id": 1}
    assert router.config.databases.find_one({"_id": "plain"})["primary"] == "shard1"


def test_hashed_key_spreads_documents(cluster, router) -> None:  # type: ignore[no-untyped-def]
    router.admin.command("shardCollection", "hashdb.h", key={"k": "hashed"})
    router.hashdb.h.insert_many([{"k": i} for i in range(40)])
    with shard_client(cluster, "shard0") as s0, shard_client(cluster, "shard1") as s1:
        on0, on1 = s0.hashdb.h.count_documents({}), s1.hashdb.h.count_documents({})
    assert on0 + on1 == 40 and on0 > 0 and on1 > 0
    assert router.hashdb.h.find_one({"k": 17}, {"_id": 0}) == {"k": 17}
    assert router.config.chunks.count_documents({"uuid": {"$exists": True}}) >= 4


def test_upsert_without_shard_key_is_refused(router, people) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as info:
        router.test.people.update_one({"n": 99}, {"$set": {"x": 1}}, upsert=True)
    assert info.value.code == 61


def test_coll_stats_has_one_document_per_shard(router, people) -> None:  # type: ignore[no-untyped-def]
    stats = list(router.test.people.aggregate([{"$collStats": {"storageStats": {}}}]))
    assert [(s["shard"], s["storageStats"]["count"]) for s in stats] == [
        ("shard0", 20),
        ("shard1", 20),
    ]


def test_multi_writes_broadcast_and_single_ones_stop_at_a_match(router) -> None:  # type: ignore[no-untyped-def]
    split_at(router, "multi.w", {"_id": 100}, "shard1")
    coll = router.multi.w
    coll.insert_many([{"_id": i, "tag": "x"} for i in (1, 2, 101, 102)])
    assert coll.update_many({"tag": "x"}, {"$set": {"seen": True}}).modified_count == 4
    assert coll.update_one({"tag": "x"}, {"$set": {"one": True}}).modified_count == 1
    assert coll.count_documents({"one": True}) == 1
    done = coll.find_one_and_update({"_id": 102}, {"$set": {"f": 1}}, return_document=True)
    assert done == {"_id": 102, "tag": "x", "seen": True, "f": 1}
    assert coll.delete_many({"tag": "x"}).deleted_count == 4


def test_fail_command_on_a_change_streams_get_more_is_not_resumable(cluster, router) -> None:  # type: ignore[no-untyped-def]
    """The router's failCommand fails a getMore before its cursor is checked out: the error
    carries only the labels the fail point names, none saying the change stream may resume
    (spec: change-streams-resume-errorLabels, "does not resume if error does not contain
    ResumableChangeStreamError", run against the router)."""
    coll = router.test.watched
    coll.insert_one({"_id": 0})
    stream = coll.watch(max_await_time_ms=50)
    router.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["getMore"], "errorCode": 6},
    )
    coll.insert_one({"_id": 1})
    with pytest.raises(OperationFailure) as info:
        stream.try_next()
    stream.close()
    assert info.value.code == 6
    assert not info.value.has_error_label("ResumableChangeStreamError")


def test_a_get_more_failed_after_checkout_may_resume(cluster, router) -> None:  # type: ignore[no-untyped-def]
    """failGetMoreAfterCursorCheckout fails the change stream's getMore once its cursor is
    checked out: the error is labelled ResumableChangeStreamError and pymongo resumes."""
    coll = router.test.watched_after
    coll.insert_one({"_id": 0})
    with coll.watch(max_await_time_ms=50) as stream:
        router.admin.command(
            "configureFailPoint",
            "failGetMoreAfterCursorCheckout",
            mode={"times": 1},
            data={"errorCode": 6},
        )
        coll.insert_one({"_id": 1})
        change = None
        for _ in range(100):  # each try_next is one getMore of 50 ms at most
            change = stream.try_next()
            if change is not None:
                break
    assert change is not None and change["documentKey"] == {"_id": 1}


def test_shard_collection_is_a_change_stream_event_with_expanded_events(router) -> None:  # type: ignore[no-untyped-def]
    """The primary shard's oplog records it: a change stream with showExpandedEvents on the
    collection reports `shardCollection` with the key (one without the option does not)."""
    db = router.get_database("expanded")
    db.drop_collection("events")
    db.create_collection("events")
    with db.events.watch(show_expanded_events=True) as expanded, db.events.watch() as plain:
        router.admin.command({"enableSharding": "expanded"})
        router.admin.command({"shardCollection": "expanded.events", "key": {"_id": 1}})
        db.events.insert_one({"_id": 1})
        event = expanded.next()
        assert event["operationType"] == "shardCollection"
        assert event["operationDescription"]["shardKey"] == {"_id": 1}
        assert event["ns"] == {"db": "expanded", "coll": "events"}
        assert expanded.next()["operationType"] == "insert"
        assert plain.next()["operationType"] == "insert"  # no shardCollection event here

"""Change streams as mongod opens them (issue 17): majority read concern only, no
resumeAfter an invalidate, and $changeStreamSplitLargeEvent."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure


def test_only_majority_read_concern(client: MongoClient, coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({})
    db = coll.database
    for level in ("local", "available", "linearizable"):
        with pytest.raises(OperationFailure) as info:
            db.command(
                "aggregate",
                coll.name,
                pipeline=[{"$changeStream": {}}],
                cursor={},
                readConcern={"level": level},
            )
        assert info.value.code == 72
        assert f"Current readConcern: {level}" in str(info.value)
    for read_concern in ({"level": "majority"}, {}):
        reply = db.command(
            "aggregate",
            coll.name,
            pipeline=[{"$changeStream": {}}],
            cursor={},
            readConcern=read_concern,
        )
        db.command("killCursors", coll.name, cursors=[reply["cursor"]["id"]])


def test_resume_after_an_invalidate_is_refused(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({})
    with coll.watch() as stream:
        coll.drop()
        assert stream.next()["operationType"] == "drop"
        invalidate = stream.next()
        assert invalidate["operationType"] == "invalidate"
    with pytest.raises(OperationFailure) as info:
        coll.watch(resume_after=invalidate["_id"])
    assert info.value.code == 260 and info.value.details["codeName"] == "InvalidResumeToken"
    # startAfter may: the stream continues after the drop.
    with coll.watch(start_after=invalidate["_id"]) as stream:
        coll.insert_one({"_id": "again"})
        assert stream.next()["documentKey"] == {"_id": "again"}


def test_split_large_event(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1, "a": "x" * 8_000_000})
    split = [{"$changeStreamSplitLargeEvent": {}}]
    with coll.watch(split, full_document="updateLookup") as stream:
        coll.update_one({"_id": 1}, {"$set": {"b": "y" * 8_000_000}})
        first, second = stream.next(), stream.next()
        coll.update_one({"_id": 1}, {"$set": {"c": 1}})
        small = stream.next()
    # Fields by size: the small ones and updateDescription, then fullDocument alone.
    assert first["splitEvent"] == {"fragment": 1, "of": 2}
    assert set(first) == {
        "_id",
        "splitEvent",
        "operationType",
        "clusterTime",
        "wallTime",
        "ns",
        "documentKey",
        "updateDescription",
    }
    assert second["splitEvent"] == {"fragment": 2, "of": 2}
    assert set(second) == {"_id", "splitEvent", "fullDocument"}
    assert len(second["fullDocument"]["b"]) == 8_000_000
    assert "splitEvent" not in small
    # Resuming from the first fragment returns the second one, then what follows.
    with coll.watch(split, full_document="updateLookup", resume_after=first["_id"]) as stream:
        assert stream.next()["splitEvent"] == {"fragment": 2, "of": 2}
        assert stream.next()["updateDescription"]["updatedFields"] == {"c": 1}
    # A fragment's token needs the stage to resume from.
    with pytest.raises(OperationFailure) as info:
        coll.watch(full_document="updateLookup", resume_after=first["_id"])
    assert info.value.code == 280


def test_large_event_without_split_fails(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1, "a": "x" * 8_000_000})
    with coll.watch(full_document="updateLookup") as stream:
        coll.update_one({"_id": 1}, {"$set": {"b": "y" * 8_000_000}})
        with pytest.raises(OperationFailure) as info:
            stream.next()
    assert info.value.code == 10334


@pytest.mark.parametrize(
    ("pipeline", "code"),
    [
        ([{"$changeStreamSplitLargeEvent": {"x": 1}}], 7182800),
        ([{"$changeStreamSplitLargeEvent": {}}, {"$match": {}}], 7182802),
    ],
)
def test_split_stage_spec(coll, pipeline, code) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({})
    with pytest.raises(OperationFailure) as info:
        coll.watch(pipeline)
    assert info.value.code == code


def test_split_stage_needs_a_change_stream(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({})
    with pytest.raises(OperationFailure) as info:
        coll.aggregate([{"$match": {}}, {"$changeStreamSplitLargeEvent": {}}])
    assert info.value.code == 20 and info.value.details["codeName"] == "IllegalOperation"
    with pytest.raises(OperationFailure) as info:
        coll.watch([{"$changeStreamSplitLargeEvent": {}}, {"$changeStreamSplitLargeEvent": {}}])
    assert info.value.code == 7182802

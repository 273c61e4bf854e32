"""Reply batches: at most 16 MiB of documents, the rest through getMore; batchSize 0 gives an
empty first batch with an open cursor (issue 16 item 5, issue 17 D16)."""

from __future__ import annotations

from typing import Any

import bson
from pymongo import MongoClient

MIB = 1024 * 1024
LIMIT = 16 * MIB


def _big_docs(n: int, size: int) -> list[dict[str, Any]]:
    return [{"_id": i, "pad": "x" * size} for i in range(n)]


def _batches(db: Any, reply: dict[str, Any], name: str) -> list[list[dict[str, Any]]]:
    """Every batch of a cursor, following it with getMore to its end."""
    cursor = reply["cursor"]
    out = [cursor["firstBatch"]]
    while cursor["id"]:
        cursor = db.command({"getMore": cursor["id"], "collection": name})["cursor"]
        out.append(cursor["nextBatch"])
    return out


def _doc_bytes(batch: list[dict[str, Any]]) -> int:
    return sum(len(bson.encode(d)) for d in batch)


def test_find_caps_each_batch_at_16_mib(coll) -> None:  # type: ignore[no-untyped-def]
    for doc in _big_docs(6, 10 * MIB):
        coll.insert_one(doc)
    db = coll.database
    batches = _batches(db, db.command({"find": coll.name}), coll.name)
    # Two 10 MB documents would cross 16 MiB: the second waits for the next batch.
    assert [len(b) for b in batches] == [1, 1, 1, 1, 1, 1]
    assert [d["_id"] for b in batches for d in b] == list(range(6))
    # What a driver sees: all six documents, no reply over its size limit.
    assert len(list(coll.find())) == 6


def test_a_batch_stops_before_the_document_that_crosses_16_mib(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many(_big_docs(40, MIB // 2))
    db = coll.database
    batches = _batches(db, db.command({"find": coll.name, "batchSize": 1000}), coll.name)
    assert sum(len(b) for b in batches) == 40
    first = batches[0]
    assert _doc_bytes(first) <= LIMIT
    # The next document would not have fitted: the batch is as full as the rule allows.
    assert _doc_bytes(first) + len(bson.encode(batches[1][0])) > LIMIT


def test_get_more_and_aggregate_are_capped_too(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many(_big_docs(40, MIB // 2))
    db = coll.database
    reply = db.command({"find": coll.name, "batchSize": 1})
    batches = _batches(db, reply, coll.name)
    assert len(batches[0]) == 1
    assert all(_doc_bytes(b) <= LIMIT for b in batches)
    assert sum(len(b) for b in batches) == 40
    agg = db.command({"aggregate": coll.name, "pipeline": [], "cursor": {}})
    batches = _batches(db, agg, coll.name)
    assert len(batches) > 1 and all(_doc_bytes(b) <= LIMIT for b in batches)
    assert sum(len(b) for b in batches) == 40


def test_a_document_near_the_cap_leaves_no_room(coll) -> None:  # type: ignore[no-untyped-def]
    # 10 bytes under 16 MiB: the next document (14 bytes) would cross the cap.
    pad = LIMIT - 10 - len(bson.encode({"_id": 1, "pad": ""}))
    coll.insert_one({"_id": 1, "pad": "x" * pad})
    coll.insert_one({"_id": 2})
    db = coll.database
    batches = _batches(db, db.command({"find": coll.name}), coll.name)
    assert [[d["_id"] for d in b] for b in batches] == [[1], [2]]


def test_list_collections_batches_are_capped(client: MongoClient) -> None:
    db = client.test_list_cap
    db.client.drop_database(db.name)
    # Long validators make each listCollections entry large.
    for i in range(40):
        db.create_collection(f"c{i}", validator={"$jsonSchema": {"description": "d" * (MIB // 2)}})
    reply = db.command({"listCollections": 1})
    batches = _batches(db, reply, "$cmd.listCollections")
    assert len(batches) > 1 and all(_doc_bytes(b) <= LIMIT for b in batches)
    assert sum(len(b) for b in batches) == 40
    client.drop_database(db.name)


def test_bulk_write_reply_cursor_is_capped(client: MongoClient) -> None:
    coll = client.test.bulk_cap
    coll.drop()
    coll.insert_one({"_id": 1})
    ops = [{"insert": 0, "document": {"_id": 1}} for _ in range(100_000)]
    reply = client.admin.command(
        {"bulkWrite": 1, "ops": ops, "nsInfo": [{"ns": "test.bulk_cap"}], "ordered": False}
    )
    assert reply["nErrors"] == 100_000
    assert reply["cursor"]["id"] != 0
    batches = _batches(client.admin, reply, "$cmd.bulkWrite")
    assert all(_doc_bytes(b) <= LIMIT for b in batches)
    assert [r["idx"] for b in batches for r in b] == list(range(100_000))


def test_batch_size_zero_gives_an_empty_first_batch_and_a_cursor(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i} for i in range(3)])
    db = coll.database
    replies = {
        "find": db.command({"find": coll.name, "batchSize": 0}),
        "aggregate": db.command(
            {"aggregate": coll.name, "pipeline": [], "cursor": {"batchSize": 0}}
        ),
        "listCollections": db.command({"listCollections": 1, "cursor": {"batchSize": 0}}),
        "listIndexes": db.command({"listIndexes": coll.name, "cursor": {"batchSize": 0}}),
    }
    names = {
        "find": coll.name,
        "aggregate": coll.name,
        "listCollections": "$cmd.listCollections",
        "listIndexes": coll.name,
    }
    for command, reply in replies.items():
        assert reply["cursor"]["firstBatch"] == [], command
        assert reply["cursor"]["id"] != 0, command
        rest = _batches(db, reply, names[command])
        assert sum(len(b) for b in rest) > 0, command
    bulk = client_bulk_zero(db.client, coll.full_name)
    assert bulk["cursor"]["firstBatch"] == [] and bulk["cursor"]["id"] != 0
    rest = _batches(db.client.admin, bulk, "$cmd.bulkWrite")
    assert [r["idx"] for b in rest for r in b] == [0, 1]


def client_bulk_zero(client: MongoClient, ns: str) -> dict[str, Any]:
    return client.admin.command(
        {
            "bulkWrite": 1,
            "ops": [{"insert": 0, "document": {"_id": 10}}, {"insert": 0, "document": {"_id": 11}}],
            "nsInfo": [{"ns": ns}],
            "cursor": {"batchSize": 0},
        }
    )


def test_change_stream_batches_are_capped(coll) -> None:  # type: ignore[no-untyped-def]
    db = coll.database
    coll.insert_one({"_id": "start"})
    reply = db.command({"aggregate": coll.name, "pipeline": [{"$changeStream": {}}], "cursor": {}})
    cid = reply["cursor"]["id"]
    for doc in _big_docs(5, 5 * MIB):
        coll.insert_one(doc)
    seen: list[Any] = []
    sizes = []
    while len(seen) < 5:
        batch = db.command({"getMore": cid, "collection": coll.name, "maxTimeMS": 5000})["cursor"][
            "nextBatch"
        ]
        sizes.append(_doc_bytes(batch))
        seen.extend(e["documentKey"]["_id"] for e in batch)
    assert seen == list(range(5))
    assert len(sizes) > 1 and all(s <= LIMIT for s in sizes)
    db.command({"killCursors": coll.name, "cursors": [cid]})


def test_split_event_fragments_continue_in_the_next_batch(coll) -> None:  # type: ignore[no-untyped-def]
    db = coll.database
    coll.insert_one({"_id": 1, "a": "x" * 8_000_000})
    pipeline = [
        {"$changeStream": {"fullDocument": "updateLookup"}},
        {"$changeStreamSplitLargeEvent": {}},
    ]
    cid = db.command({"aggregate": coll.name, "pipeline": pipeline, "cursor": {}})["cursor"]["id"]
    coll.update_one({"_id": 1}, {"$set": {"b": "y" * 8_000_000}})
    coll.update_one({"_id": 1}, {"$set": {"c": 1}})
    batches = []
    while sum(len(b) for b in batches) < 3:
        reply = db.command({"getMore": cid, "collection": coll.name, "maxTimeMS": 5000})
        batches.append(reply["cursor"]["nextBatch"])
    # 8 MB of updateDescription, then a 16 MB fullDocument: one fragment per batch; the
    # next event carries the 16 MB document too, so it comes alone.
    assert [[e.get("splitEvent") for e in b] for b in batches] == [
        [{"fragment": 1, "of": 2}],
        [{"fragment": 2, "of": 2}],
        [None],
    ]
    assert all(_doc_bytes(b) <= LIMIT for b in batches)
    db.command({"killCursors": coll.name, "cursors": [cid]})

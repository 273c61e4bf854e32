"""A cursor belongs to the session (and transaction) that opened it, and its id is random."""

from __future__ import annotations

from bson.int64 import Int64
from pymongo import MongoClient

from .rawclient import RawClient, new_lsid


def _open(raw: RawClient, **fields: object) -> int:
    raw.command({"drop": "owned"}, db="test")
    raw.command({"insert": "owned", "documents": [{"_id": i} for i in range(5)]}, db="test")
    reply = raw.command({"find": "owned", "batchSize": 1, **fields}, db="test")
    return reply["cursor"]["id"]


def _get_more(raw: RawClient, cid: int, **fields: object) -> dict:
    return raw.command({"getMore": Int64(cid), "collection": "owned", **fields}, db="test")


def test_another_session_cannot_continue_a_cursor(raw: RawClient) -> None:
    owner = new_lsid()
    cid = _open(raw, lsid=owner)
    reply = _get_more(raw, cid, lsid=new_lsid())
    assert reply["code"] == 50738, reply
    assert f"Cannot run getMore on cursor {cid}, which was created in session" in reply["errmsg"]
    assert _get_more(raw, cid)["code"] == 50737  # without a session
    assert _get_more(raw, cid, lsid=owner)["ok"] == 1  # its own session still can


def test_a_cursor_without_a_session_stays_without_one(raw: RawClient) -> None:
    cid = _open(raw)
    assert _get_more(raw, cid, lsid=new_lsid())["code"] == 50736
    assert _get_more(raw, cid)["ok"] == 1


def test_a_transactions_cursor_needs_its_transaction(raw: RawClient) -> None:
    lsid = new_lsid()
    txn = {"lsid": lsid, "txnNumber": Int64(1), "autocommit": False}
    cid = _open(raw, startTransaction=True, **txn)
    assert _get_more(raw, cid, lsid=lsid)["code"] == 50740  # outside the transaction
    assert _get_more(raw, cid, **txn)["ok"] == 1
    raw.command({"abortTransaction": 1, **txn})
    outside = _open(raw, lsid=lsid)
    txn2 = {"lsid": lsid, "txnNumber": Int64(2), "autocommit": False}
    reply = _get_more(raw, outside, startTransaction=True, **txn2)
    assert reply["code"] == 50739


def test_cursor_ids_are_random_positive_64_bit(client: MongoClient) -> None:
    coll = client.test.owned_ids
    coll.drop()
    coll.insert_many([{"_id": i} for i in range(3)])
    ids = set()
    for _ in range(5):
        reply = client.test.command("find", "owned_ids", batchSize=1)
        ids.add(reply["cursor"]["id"])
        client.test.command("killCursors", "owned_ids", cursors=[reply["cursor"]["id"]])
    assert len(ids) == 5 and all(0 < cid < 2**63 for cid in ids)
    assert max(ids) > 2**32  # not a counter from 1

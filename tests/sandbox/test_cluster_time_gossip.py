"""A gossiped $clusterTime can't break the clock: mongod refuses a time too far ahead of
its wall clock (205) or beyond the largest logical time (40484), and keeps serving."""

from __future__ import annotations

import time

from bson.timestamp import Timestamp
from pymongo import MongoClient

from .rawclient import RawClient

ZERO_SIGNATURE = {"hash": bytes(20), "keyId": 0}


def gossip(ts: Timestamp) -> dict:
    return {"ping": 1, "$clusterTime": {"clusterTime": ts, "signature": ZERO_SIGNATURE}}


def test_the_largest_timestamp_is_refused_and_the_server_keeps_working(
    raw: RawClient, client: MongoClient
) -> None:
    reply = raw.command(gossip(Timestamp(2**32 - 1, 2**32 - 1)))
    assert reply["code"] == 205 and reply["codeName"] == "ClusterTimeFailsRateLimiter"
    assert "too far from this node's wall clock time" in reply["errmsg"]
    # Every later command works, for this client and for others.
    client.test.gossip.insert_one({"x": 1})
    assert client.admin.command("hello")["isWritablePrimary"] is True
    assert raw.command({"ping": 1})["$clusterTime"]["clusterTime"].time < 2**31


def test_an_increment_beyond_the_maximum_is_refused(raw: RawClient) -> None:
    reply = raw.command(gossip(Timestamp(int(time.time()), 2**31)))
    assert reply["code"] == 40484
    assert reply["errmsg"] == "$clusterTime cannot be advanced beyond its maximum value"


def test_a_time_within_the_drift_is_taken_and_ticks_roll_into_the_next_second(
    raw: RawClient, client: MongoClient
) -> None:
    ahead = int(time.time()) + 3600
    reply = raw.command(gossip(Timestamp(ahead, 2**31 - 1)))
    assert reply["ok"] == 1
    assert reply["$clusterTime"]["clusterTime"] == Timestamp(ahead, 2**31 - 1)
    # The next write can't raise the increment past 2^31-1: it moves to the next second.
    client.test.gossip.insert_one({"x": 2})
    after = raw.command({"ping": 1})["$clusterTime"]["clusterTime"]
    assert after == Timestamp(ahead + 1, 1)

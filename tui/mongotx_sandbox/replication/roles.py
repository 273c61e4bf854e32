"""Member states and the fail points that stop replication (names as MongoDB has them)."""

from __future__ import annotations

import datetime

from bson.objectid import ObjectId

PRIMARY, SECONDARY, DOWN = 1, 2, 8  # MemberState values [srv:db/repl/member_state.h]
STATE_NAMES = {PRIMARY: "PRIMARY", SECONDARY: "SECONDARY", DOWN: "(not reachable/healthy)"}
# MongoDB's own fail points that stop a secondary's replication: the oplog fetcher's
# [srv:db/repl/oplog_fetcher.cpp stopReplProducer] and the applier's
# [srv:db/repl/oplog_applier_impl.cpp rsSyncApplyStop].
STOP_FAIL_POINTS = ("stopReplProducer", "rsSyncApplyStop")


def election_id(term: int) -> ObjectId:
    """A primary's electionId: MongoDB makes it from the term, so later elections compare
    greater [srv:db/repl/topology_coordinator.cpp, OID::fromTerm]."""
    return ObjectId(f"7fffffff{term:016x}")


def utc(seconds: float) -> datetime.datetime:
    """A wall time as BSON dates carry it (naive UTC)."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)

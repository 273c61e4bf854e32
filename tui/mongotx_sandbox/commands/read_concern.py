"""Read concern outside transactions: snapshot reads at a cluster time (reference §6), and
the commands that refuse a snapshot read concern."""

from __future__ import annotations

from typing import Any

from bson.timestamp import Timestamp

from ..access import OpContext
from ..clock import int_to_ts, ts_to_int
from ..errors import CommandError


def apply_read_concern(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Snapshot reads outside transactions (reference §6); returns reply extras."""
    rc = body.get("readConcern")
    if not isinstance(rc, dict) or ctx.txn is not None:
        return {}
    after = rc.get("afterClusterTime")
    if isinstance(after, Timestamp) and ts_to_int(after) > ctx.state.clock.now():
        raise CommandError(
            72,
            "readConcern afterClusterTime value must not be greater than the current clusterTime",
        )
    level = rc.get("level")
    if level is not None and level not in (
        "local",
        "majority",
        "snapshot",
        "available",
        "linearizable",
    ):
        raise CommandError(9, f"Invalid read concern level '{level}'")
    if level != "snapshot":
        return {}
    at = rc.get("atClusterTime")
    if isinstance(at, Timestamp):
        value = ts_to_int(at)
        if value > ctx.state.clock.now():
            raise CommandError(
                72,
                "readConcern atClusterTime value must not be greater than the current clusterTime",
            )
        if value < ctx.state.oldest_timestamp():
            # The history before the oldest timestamp is gone (store.History; server:
            # wiredtiger_recovery_unit.cpp _txnOpen, ReadSource::kProvided).
            raise CommandError(
                239,
                f"Read timestamp {_ts_string(at)} is older than the oldest available timestamp.",
            )
        ctx.snapshot = value
    elif ctx.snapshot is None:  # a member of a larger set chose it (the majority point)
        # Below any oplog hole (oplog_holes.py; ReadSource kNoOverlap).
        ctx.snapshot = ctx.state.oplog_holes.all_durable(ctx.state.clock)
    return {"atClusterTime": int_to_ts(ctx.snapshot)}


def refuse_snapshot_read_concern(body: dict[str, Any], name: str) -> None:
    rc = body.get("readConcern")
    if isinstance(rc, dict) and rc.get("level") == "snapshot" and "autocommit" not in body:
        raise CommandError(
            72, f'Command {name} does not support {{ readConcern: {{ level: "snapshot" }} }}'
        )


def _ts_string(ts: Timestamp) -> str:
    """A timestamp as the server prints it (Timestamp::toString)."""
    return f"Timestamp({ts.time}, {ts.inc})"

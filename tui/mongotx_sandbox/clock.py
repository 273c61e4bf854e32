"""The hybrid logical clock behind $clusterTime, operationTime and commit timestamps."""

from __future__ import annotations

import time

from bson.timestamp import Timestamp


def ts_to_int(ts: Timestamp) -> int:
    return (ts.time << 32) | ts.inc


def int_to_ts(value: int) -> Timestamp:
    return Timestamp(value >> 32, value & 0xFFFFFFFF)


class ClusterClock:
    """Strictly increasing timestamps: (wall seconds, increment), as a replica set's oplog."""

    def __init__(self) -> None:
        self.last = int(time.time()) << 32

    def tick(self) -> int:
        """A new optime for a write, greater than every time handed out."""
        wall = int(time.time()) << 32
        self.last = max(self.last + 1, wall | 1)
        return self.last

    def advance(self, value: int) -> None:
        """Gossip: move forward to a cluster time a client has seen (never backwards)."""
        if value > self.last:
            self.last = value

    def now(self) -> int:
        return self.last

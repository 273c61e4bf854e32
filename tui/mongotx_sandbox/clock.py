"""The hybrid logical clock behind $clusterTime, operationTime and commit timestamps."""

from __future__ import annotations

import time

from bson.timestamp import Timestamp

from .errors import CommandError

# Each half of a logical time stays within a signed 32-bit integer, so that no tick can
# overflow either half [srv:db/vector_clock.h VectorClock::kMaxValue].
MAX_VALUE = 2**31 - 1
# maxAcceptableLogicalClockDriftSecs: a gossiped time may lead the wall clock by a year at
# most (a startup-only parameter, default 365 days) [srv:db/logical_clock.idl].
MAX_DRIFT_SECS = 365 * 24 * 60 * 60


def ts_to_int(ts: Timestamp) -> int:
    return (ts.time << 32) | ts.inc


def int_to_ts(value: int) -> Timestamp:
    return Timestamp(value >> 32, value & 0xFFFFFFFF)


class ClusterClock:
    """Strictly increasing timestamps: (wall seconds, increment), as a replica set's oplog."""

    def __init__(self) -> None:
        # How far this machine's wall clock is ahead of the real one: 0 unless a test moved
        # it (the sandboxMember action advanceClock), as a host's clock can jump.
        self.offset = 0.0
        self.last = int(time.time()) << 32

    def wall(self) -> float:
        """The wall clock in seconds, as this machine reads it (oplog wall times, hello)."""
        return time.time() + self.offset

    def tick(self) -> int:
        """A new optime for a write, greater than every time handed out. Behind the wall
        clock it jumps to (wall, 1); an increment at its maximum rolls into the next second
        [srv:db/vector_clock_mutable.cpp VectorClockMutable::_advanceComponentTimeByTicks]."""
        wall = int(self.wall())
        secs, inc = self.last >> 32, self.last & 0xFFFFFFFF
        if secs < wall:
            secs, inc = wall, 0
        elif inc >= MAX_VALUE:
            secs, inc = secs + 1, 0
        if secs > MAX_VALUE:
            raise CommandError(
                40482, "$clusterTime cannot be advanced beyond the maximum logical time value"
            )
        self.last = (secs << 32) | (inc + 1)
        return self.last

    def advance(self, value: int) -> None:
        """Gossip: move forward to a cluster time a client has seen (never backwards).

        Without authentication mongod takes an unsigned cluster time as it is, so its only
        guards are the rate limiter and the maximum value: a time more than
        maxAcceptableLogicalClockDriftSecs ahead of the wall clock is refused with 205, one
        whose half exceeds 2^31-1 with 40484, and the clock keeps its value for everyone
        [srv:db/vector_clock.cpp VectorClock::_ensurePassesRateLimiter, SignedComponentFormat::in].
        """
        secs, inc = value >> 32, value & 0xFFFFFFFF
        wall = int(self.wall())
        if secs > wall and secs - wall > MAX_DRIFT_SECS:
            raise CommandError(
                205,
                f"New $clusterTime, {secs}, is too far from this node's wall clock time, {wall}.",
            )
        if secs > MAX_VALUE or inc > MAX_VALUE:
            raise CommandError(40484, "$clusterTime cannot be advanced beyond its maximum value")
        if value > self.last:
            self.last = value

    def now(self) -> int:
        return self.last

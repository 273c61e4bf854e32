"""Oplog holes: timestamps reserved for oplog entries not written yet (issue 15, item 3).

A write takes its oplog slot (its timestamp) before it writes the entry; until the entry is
written, later slots may already be written, and the slot is a hole. Reads that name a
time must not pick one past a hole, or the entry written into it later would appear in
their past: the "all durable" point, the latest timestamp with every earlier slot
written, stays below the oldest hole [srv:db/storage/wiredtiger/wiredtiger_kv_engine.cpp
getAllDurableTimestamp; db/storage/wiredtiger/wiredtiger_oplog_manager.cpp, the oplog
visibility it publishes]. A snapshot read with no time given reads at it (ReadSource
kNoOverlap: the minimum of all durable and last applied [srv:db/storage/wiredtiger/
wiredtiger_recovery_unit.cpp _txnOpen]); a read with afterClusterTime or atClusterTime
waits until it reaches that time [srv:db/read_concern_mongod.cpp waitForReadConcernImpl].

In the sandbox every write is one atomic step, except prepareTransaction held by the fail
point hangAfterReservingPrepareTimestamp (prepare.py): so holes exist only then.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bson.timestamp import Timestamp

from . import waits
from .clock import ClusterClock, ts_to_int
from .errors import CommandError


class OplogHoles:
    """The reserved, unwritten oplog slots of one server, and who waits for them."""

    def __init__(self) -> None:
        self.reserved: set[int] = set()
        self._filled: asyncio.Event | None = None

    def reserve(self, clock: ClusterClock) -> int:
        """A new timestamp whose oplog entry is still to be written."""
        ts = clock.tick()
        self.reserved.add(ts)
        return ts

    def fill(self, ts: int) -> None:
        """The slot's entry is written, or its write gave the slot back: no hole there."""
        self.reserved.discard(ts)
        event = self._filled
        if event is not None:
            self._filled = None
            event.set()

    def all_durable(self, clock: ClusterClock) -> int:
        """The latest timestamp before which no slot is unwritten."""
        if not self.reserved:
            return clock.now()
        return min(self.reserved) - 1

    async def wait_visible(self, ts: int, deadline: float | None) -> None:
        """Wait until every slot at or before `ts` is written; MaxTimeMSExpired (50) at the
        operation's deadline, as the read concern wait is interruptible by maxTimeMS."""
        while self.reserved and min(self.reserved) <= ts:
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                raise CommandError(50, "operation exceeded time limit")
            event = self._filled
            if event is None:
                event = self._filled = asyncio.Event()
            try:
                await waits.within(event.wait(), timeout)
            except TimeoutError:
                raise CommandError(50, "operation exceeded time limit") from None


def read_time(body: dict[str, Any]) -> int | None:
    """The time a command's read concern names: afterClusterTime, or a snapshot read's
    atClusterTime (both wait for the data up to them [waitForReadConcernImpl])."""
    rc = body.get("readConcern")
    if not isinstance(rc, dict):
        return None
    at = rc.get("atClusterTime")
    if rc.get("level") == "snapshot" and isinstance(at, Timestamp):
        return ts_to_int(at)
    after = rc.get("afterClusterTime")
    return ts_to_int(after) if isinstance(after, Timestamp) else None

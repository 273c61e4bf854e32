"""The operations in progress: what `$currentOp` and `currentOp` list and `killOp` kills
(issue 17, D6/D15).

Every client command is one operation from its start to its reply, with an `opid` unique
in this server (mongod's CurOp, registered on the client's OperationContext
[srv:db/curop.cpp CurOp::reportState; db/service_entry_point_common.cpp]).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

# The `op` field of an operation by its command (mongod's LogicalOp: the CRUD commands set
# their own, every other command is "command") [srv:db/curop.cpp, logicalOpToString].
_LOGICAL_OP = {
    "find": "query",
    "insert": "insert",
    "update": "update",
    "delete": "remove",
    "getMore": "getmore",
    "findAndModify": "command",
}


class RunningOp:
    """One command while it runs."""

    __slots__ = (
        "body",
        "client",
        "connection_id",
        "failpoint_msg",
        "killed",
        "lock",
        "lock_waits",
        "name",
        "ns",
        "opid",
        "prepare_conflict_seconds",
        "prepare_read_conflicts",
        "started_mono",
        "started_wall",
        "task",
        "waiting_for_lock",
        "write_conflict_since",
        "write_conflicts",
    )

    def __init__(
        self, opid: int, name: str, body: dict[str, Any], connection_id: int, client: str
    ) -> None:
        self.opid = opid
        self.name = name
        self.body = body
        target = body.get(name)
        db = body.get("$db", "admin")
        if isinstance(target, str) and name != "renameCollection":
            self.ns = f"{db}.{target}"
        elif name == "renameCollection" and isinstance(target, str):
            self.ns = target
        elif name == "aggregate":
            self.ns = f"{db}.$cmd.aggregate"
        else:
            self.ns = f"{db}.$cmd"
        self.connection_id = connection_id
        self.client = client
        self.started_wall = time.time()
        self.started_mono = time.monotonic()
        self.task: asyncio.Task[Any] | None = asyncio.current_task()
        self.waiting_for_lock = False
        self.lock: tuple[str, str] | None = None  # (resource, mode) it waits for or holds
        self.lock_waits = 0
        self.killed = False
        # Prepared transactions it waited for (prepare.py), and the test fail point it is
        # held at, if any: $currentOp's prepareReadConflicts and failpointMsg.
        self.prepare_read_conflicts = 0
        # Time spent waiting on them (the slow-query line's prepareConflictDurationMillis
        # [srv:db/storage/prepare_conflict_tracker.cpp]).
        self.prepare_conflict_seconds = 0.0
        self.failpoint_msg: str | None = None
        # Write conflicts of a write outside a transaction waiting for one that holds its
        # document: the retries mongod would have made meanwhile (write_conflict_retries).
        self.write_conflicts = 0
        self.write_conflict_since: float | None = None

    def reported_write_conflicts(self, now_mono: float) -> int:
        since = self.write_conflict_since
        extra = write_conflict_retries(now_mono - since) if since is not None else 0
        return self.write_conflicts + extra

    @property
    def op(self) -> str:
        return _LOGICAL_OP.get(self.name, "command")


# mongod's writeConflictRetry backoff before attempt n: none for the first 3, then 1 ms
# (to 9), 5 ms (to 99), 10 ms (to 199), 100 ms [srv:util/log_and_backoff.cpp
# logAndBackoffImpl].
_BACKOFF_STEPS = ((3, 0.0), (9, 0.001), (99, 0.005), (199, 0.010))


def write_conflict_retries(seconds: float) -> int:
    """How many write conflicts a write retrying for `seconds` against a document another
    transaction holds has met: the sandbox waits for that transaction instead of retrying,
    and reports the count the server's backoff would give."""
    attempts, done = 0, 0.0
    for last, pause in _BACKOFF_STEPS:
        if pause == 0.0:
            attempts = last
            continue
        span = (last - attempts) * pause
        if seconds - done < span:
            return attempts + int((seconds - done) / pause)
        attempts, done = last, done + span
    return attempts + int((seconds - done) / 0.1)


class OperationTable:
    """The operations running now, by opid."""

    def __init__(self) -> None:
        self.running: dict[int, RunningOp] = {}
        self._next = 1

    def start(self, name: str, body: dict[str, Any], connection_id: int, client: str) -> RunningOp:
        op = RunningOp(self._next, name, body, connection_id, client)
        self._next += 1
        self.running[op.opid] = op
        return op

    def finish(self, op: RunningOp) -> None:
        self.running.pop(op.opid, None)

    def kill(self, opid: int) -> bool:
        """Interrupt operation `opid` (it fails with 11601 Interrupted); False if unknown."""
        op = self.running.get(opid)
        if op is None:
            return False
        op.killed = True
        if op.task is not None and op.task is not asyncio.current_task():
            op.task.cancel()
        return True

"""Faults for the bank run (issue 16): a seeded schedule of `failCommand` fail points and
session kills, applied by operation count; a handler that drops replies after the command
ran; a listener that counts what the clients saw."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pymongo import MongoClient, monitoring

from mongotx_sandbox import dispatch
from mongotx_sandbox.connections import Connection
from mongotx_sandbox.errors import CloseConnection
from mongotx_sandbox.state import ServerState
from mongotx_sandbox.wire import OP_MSG, Request

APP = "bank"  # the workers' appName: fail points and reply drops only touch them
DB = "bank"
# A writeConcernError the way a replica set reports a wtimeout (commit-writeconcernerror.json).
WCE_64 = {"code": 64, "errmsg": "waiting for replication timed out", "errInfo": {"wtimeout": True}}
WCE_91 = {"code": 91, "errmsg": "Replication is being shut down"}


@dataclass(frozen=True)
class Fault:
    """One step of the schedule: a fail point, a reply drop, or killAllSessions."""

    kind: str
    mode: Any = None
    data: dict[str, Any] = field(default_factory=dict)
    drop: str | None = None  # the command whose next reply is dropped
    kill: bool = False  # with drop: kill every session before the client can retry


def _fail_point(kind: str, rng: random.Random) -> Fault:
    if kind == "close":
        cmd = rng.choice(["commitTransaction", "insert", "update"])
        return Fault(f"close:{cmd}", {"times": 1}, {"failCommands": [cmd], "closeConnection": True})
    if kind == "code":
        code = rng.choice([91, 189, 10107])
        cmd = rng.choice(["commitTransaction", "insert", "update"])
        # Twice in a row: the driver's one retry fails too, the outcome is left to the caller.
        times = rng.choice([1, 1, 2])
        return Fault(
            f"code{code}:{cmd}", {"times": times}, {"failCommands": [cmd], "errorCode": code}
        )
    if kind == "wce":
        wce = rng.choice([WCE_64, WCE_91])
        if rng.random() < 0.5:
            data: dict[str, Any] = {"failCommands": ["commitTransaction"]}
            where = "commitTransaction"
        else:
            # Outside a transaction only: the counter's retryable $inc.
            data = {"failCommands": ["update"], "namespace": f"{DB}.counter"}
            where = "counter"
        return Fault(f"wce{wce['code']}:{where}", {"times": 1}, {**data, "writeConcernError": wce})
    if kind == "block":
        cmd = rng.choice(["find", "update", "commitTransaction"])
        data = {"failCommands": [cmd], "blockConnection": True, "blockTimeMS": 40}
        return Fault(f"block:{cmd}", {"times": 3}, data)
    cmd = rng.choice(["commitTransaction", "update"])
    kill = rng.random() < 0.5
    return Fault(f"drop{'+kill' if kill else ''}:{cmd}", drop=cmd, kill=kill)


def schedule(seed: int, steps: int, kill_every: int) -> list[Fault]:
    """The faults in order; every `kill_every`-th step is killAllSessions."""
    rng = random.Random(seed)
    kinds = ["close", "code", "wce", "block", "drop"]
    faults = []
    for i in range(steps):
        if i % kill_every == kill_every - 1:
            faults.append(Fault("killAllSessions"))
        else:
            faults.append(_fail_point(rng.choice(kinds), rng))
    return faults


class ReplyDropper:
    """A sandbox handler that runs the command, then closes the connection instead of
    answering: the write is applied and the client never learns it (a lost reply). With
    `kill`, every session is killed first, so the client's retry meets a killed session
    (issue 16, item 1: what a retried commit or write must survive)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: tuple[str, bool] | None = None
        self.dropped: Counter[str] = Counter()

    def arm(self, command: str | None, kill: bool = False) -> None:
        with self._lock:
            self._armed = (command, kill) if command else None

    def _take(self, command: str) -> bool | None:
        """None: answer; else drop the reply, killing every session first if True."""
        with self._lock:
            if self._armed is None or self._armed[0] != command:
                return None
            kill = self._armed[1]
            self._armed = None
            self.dropped[f"{command}{'+kill' if kill else ''}"] += 1
            return kill

    async def handle(
        self, state: ServerState, conn: Connection, req: Request
    ) -> dict[str, Any] | None:
        reply = await dispatch.handle(state, conn, req)
        if reply is None or conn.app_name != APP or not reply.get("ok"):
            return reply
        kill = self._take(next(iter(req.body), ""))
        if kill is None:
            return reply
        if kill:
            kill_all = Request(0, OP_MSG, {"killAllSessions": [], "$db": "admin"})
            await dispatch.handle(state, conn, kill_all)
        raise CloseConnection()


class Seen(monitoring.CommandListener):
    """What the clients saw fail, by command and code (or exception type for network errors)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failures: Counter[str] = Counter()
        self.internal: list[str] = []

    def _note(self, command: str, reply: dict[str, Any]) -> None:
        code = reply.get("code")
        key = f"{command}:{code if code is not None else reply.get('errtype', '?')}"
        with self._lock:
            self.failures[key] += 1
            if code == 1:
                self.internal.append(f"{command}: {reply.get('errmsg')}")

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        wce = event.reply.get("writeConcernError")
        if isinstance(wce, dict):
            self._note(f"{event.command_name}.wce", wce)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        failure = event.failure if isinstance(event.failure, dict) else {}
        wce = failure.get("writeConcernError")
        if isinstance(wce, dict):
            self._note(f"{event.command_name}.wce", wce)
        else:
            self._note(event.command_name, failure)


class Progress:
    """Operations done so far; the fault thread waits on it (counts, never a timer)."""

    def __init__(self, workers: int) -> None:
        self._cond = threading.Condition()
        self.ops = 0
        self.running = workers

    def tick(self) -> None:
        with self._cond:
            self.ops += 1
            self._cond.notify_all()

    def worker_done(self) -> None:
        with self._cond:
            self.running -= 1
            self._cond.notify_all()

    def wait_for_ops(self, ops: int, deadline_s: float) -> bool:
        """True once `ops` operations are done; False once every worker has finished."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self.ops >= ops or self.running == 0, deadline_s)
            if not ok:
                raise AssertionError(f"no progress: {self.ops} operations, {self.running} running")
            return self.ops >= ops and self.running > 0


def inject(
    admin: MongoClient,
    dropper: ReplyDropper,
    faults: list[Fault],
    progress: Progress,
    every: int,
    applied: Counter[str],
) -> None:
    """Apply the schedule, one step every `every` operations, until the workers finish."""
    try:
        for i, fault in enumerate(faults):
            if not progress.wait_for_ops((i + 1) * every, 120):
                return
            if fault.kind == "killAllSessions":
                admin.admin.command("killAllSessions", [])
            elif fault.drop is not None:
                dropper.arm(fault.drop, fault.kill)
            else:
                data = {**fault.data, "appName": APP}
                admin.admin.command("configureFailPoint", "failCommand", mode=fault.mode, data=data)
            applied[fault.kind] += 1
    finally:
        admin.admin.command("configureFailPoint", "failCommand", mode="off")
        dropper.arm(None)

"""Fault injection from the workbench: the `failCommand` presets, the fail point the
workbench set, and whether a command's reply shows it fired. Pure values, no IO.

A fail point is configured with `configureFailPoint` on `admin` (adminOnly); it exists only
where test commands are enabled (mongodb/mongo src/mongo/db/commands/fail_point_cmd.cpp:
MONGO_REGISTER_TEST_COMMAND(FaultInjectCmd), so a server without enableTestCommands
answers 59 CommandNotFound; the command itself needs no privilege).
`failCommand`'s fields are those of mongodb/mongo src/mongo/db/commands.cpp
(CommandHelpers::evaluateFailCommandFailPoint: failCommands, errorCode, errorLabels,
closeConnection, blockConnection/blockTimeMS, writeConcernError, appName).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .monitor import CommandRecord

WRITES = ("insert", "update", "delete", "findAndModify")
FAIL_COMMAND = "failCommand"
# The coordinator's fail point: it has decided but does not write its decision, so every
# participant stays prepared [srv:db/s/transaction_coordinator.cpp hangBeforeWritingDecision;
# jstests/sharding/txn_two_phase_commit_failover.js uses it]. A mongos does not know it; the
# sandbox's router passes it to every shard (mongotx_sandbox/sharding/router.py).
HANG_BEFORE_DECISION = "hangBeforeWritingDecision"


def configure_command(failpoint: dict[str, Any]) -> dict[str, Any]:
    """The configureFailPoint command for a failPoint step's `{name?, mode, data?}` (the
    name defaults to failCommand)."""
    rest = {k: v for k, v in failpoint.items() if k != "name"}
    return {"configureFailPoint": failpoint.get("name") or FAIL_COMMAND, **rest}


@dataclass
class FaultSpec:
    """What the dialog's form holds: one `failCommand` configuration."""

    commands: list[str] = field(default_factory=list)
    error_code: int | None = None
    labels: list[str] = field(default_factory=list)
    close: bool = False
    wce_code: int | None = None  # a writeConcernError with this code (64, 100)
    block_ms: int | None = None  # blockConnection for this many ms
    app_name: str = ""
    times: int = 1  # 0: alwaysOn
    fail_point: str = FAIL_COMMAND  # another fail point takes no form fields (always on)

    def problem(self) -> str | None:
        """What is missing or wrong, in words; None when it can be set."""
        if self.fail_point != FAIL_COMMAND:
            return None
        if not self.commands:
            return "name the commands it fails, e.g. commitTransaction"
        if self.times < 0:
            return "times must be 0 (always) or more"
        if self.block_ms is not None and self.block_ms <= 0:
            return "block for a positive number of ms"
        effects = (self.error_code, self.wce_code, self.block_ms)
        if not self.close and all(e is None for e in effects):
            return "choose what happens: an error code, closeConnection, a writeConcernError or a block"
        return None

    def failpoint(self) -> dict[str, Any]:
        """`{mode, data}`: what a scenario's failPoint step holds (backend/steps.py runs it)."""
        if self.fail_point != FAIL_COMMAND:
            return {"name": self.fail_point, "mode": "alwaysOn"}
        data: dict[str, Any] = {"failCommands": list(self.commands)}
        if self.close:
            data["closeConnection"] = True
        if self.error_code is not None:
            data["errorCode"] = self.error_code
        if self.labels:
            data["errorLabels"] = list(self.labels)
        if self.wce_code is not None:
            data["writeConcernError"] = {
                "code": self.wce_code,
                "errmsg": WCE_MESSAGES.get(self.wce_code, "injected writeConcernError"),
            }
        if self.block_ms is not None:
            data["blockConnection"] = True
            data["blockTimeMS"] = self.block_ms
        if self.app_name:
            data["appName"] = self.app_name
        mode: Any = {"times": self.times} if self.times else "alwaysOn"
        return {"mode": mode, "data": data}

    def describe(self) -> str:
        """`commitTransaction: closeConnection` and the like."""
        if self.fail_point != FAIL_COMMAND:
            return f"{self.fail_point}: alwaysOn"
        what = []
        if self.close:
            what.append("closeConnection")
        if self.error_code is not None:
            labels = f" [{', '.join(self.labels)}]" if self.labels else ""
            what.append(f"error {self.error_code}{labels}")
        if self.wce_code is not None:
            what.append(f"writeConcernError {self.wce_code}")
        if self.block_ms is not None:
            what.append(f"block {self.block_ms} ms")
        if self.app_name:
            what.append(f"appName {self.app_name}")
        return f"{', '.join(self.commands)}: {', '.join(what)}"


# The errmsg mongod gives these write concern errors (write_concern.cpp waitForWriteConcern:
# a wtimeout; UnsatisfiableWriteConcern when w exceeds the data-bearing members).
WCE_MESSAGES = {
    64: "waiting for replication timed out",
    100: "Not enough data-bearing nodes",
}


@dataclass(frozen=True)
class Preset:
    """A fault that teaches one thing: its title names the outcome, `lesson` says why."""

    id: str
    title: str
    lesson: str
    spec: FaultSpec


def presets() -> tuple[Preset, ...]:
    """The dialog's presets, each `times: 1` (fresh specs: the form changes them)."""
    return (
        Preset(
            "commit-no-reply",
            "The next commit loses its reply",
            "closeConnection on commitTransaction: the driver retries the commit once; with "
            "times 2 the retry fails too: UnknownTransactionCommitResult.",
            FaultSpec(["commitTransaction"], close=True),
        ),
        Preset(
            "retryable-write",
            "The next write fails with a retryable error",
            "91 ShutdownInProgress + RetryableWriteError (or 189, 10107): the driver retries "
            "a write outside a transaction once; times 2 shows the error.",
            FaultSpec(list(WRITES), error_code=91, labels=["RetryableWriteError"]),
        ),
        Preset(
            "transient",
            "The next statement in a transaction fails with a transient error",
            "112 WriteConflict + TransientTransactionError: run the whole transaction again "
            "(with_transaction does it for you).",
            FaultSpec(list(WRITES), error_code=112, labels=["TransientTransactionError"]),
        ),
        Preset(
            "commit-wce",
            "The next commit gets a writeConcernError",
            "writeConcernError 64 on commitTransaction: the commit may have happened; the "
            "driver labels it UnknownTransactionCommitResult (not 100).",
            FaultSpec(["commitTransaction"], wce_code=64),
        ),
        Preset(
            "block",
            "Block the next command for N ms",
            "blockConnection: the server holds the command N ms before it runs, as a slow "
            "network or a busy server would.",
            FaultSpec(["update"], block_ms=2000),
        ),
        Preset(
            "custom",
            "Custom",
            "Any failCommand: command names, error code, labels, closeConnection, appName; "
            "times 0 is always on.",
            FaultSpec(),
        ),
        Preset(
            "coordinator-stop",
            "Stop the coordinator after prepare (sharded cluster)",
            "hangBeforeWritingDecision: a cross-shard commit prepares every participant, then "
            "its coordinator holds the decision; reads of the prepared documents wait (prepare "
            "conflict) until you turn the fail point off and the commit completes.",
            FaultSpec(fail_point=HANG_BEFORE_DECISION, times=0),
        ),
    )


@dataclass
class ActiveFailPoint:
    """The fail point the workbench set and has not seen used up or turned off."""

    spec: FaultSpec
    title: str
    since_seq: int  # the monitor's last record looked at (at first: when it was set)
    fired: int = 0
    waiting: list[CommandRecord] = field(default_factory=list)  # sent, not yet answered

    @property
    def left(self) -> int | None:
        """Firings left (None: alwaysOn)."""
        return None if not self.spec.times else max(0, self.spec.times - self.fired)

    def status(self) -> str:
        left = self.left
        times = "always" if left is None else f"{left} time{'s' if left != 1 else ''} left"
        return f"{self.title} ({self.spec.describe()}; {times})"


def fired_by(spec: FaultSpec, record: CommandRecord) -> str | None:
    """How the server's answer to `record` shows the fail point fired, in words; None when
    it does not (judged from what came back, never from what was expected)."""
    if record.pending or record.name not in spec.commands:
        return None
    reply = record.reply or {}
    if spec.close:
        return "no reply: the server closed the connection" if record.failure else None
    if spec.error_code is not None:
        if reply.get("ok") or reply.get("code") != spec.error_code:
            return None
        return f"answered {record.outcome()}"
    if spec.wce_code is not None:
        wce = reply.get("writeConcernError")
        if wce is None and "ok" not in reply:
            wce = reply  # pymongo reports a failed command by its writeConcernError alone
        if isinstance(wce, dict) and wce.get("code") == spec.wce_code:
            return f"answered writeConcernError {wce['code']} {wce.get('codeName', '')}".strip()
        return None
    if spec.block_ms is not None and record.duration_ms is not None:
        # blockConnection holds the command at least blockTimeMS before it runs.
        if record.duration_ms >= spec.block_ms:
            return f"answered after {record.duration_ms:,.0f} ms (held {spec.block_ms} ms)"
    return None


def refusal(code: int | None, code_name: str) -> str | None:
    """The sentence saying the server refused fail points (None: another error)."""
    if code == 59:  # CommandNotFound: configureFailPoint is test-only
        return (
            "This server has no configureFailPoint (59 CommandNotFound): fail points exist "
            "only where test commands are enabled (enableTestCommands)."
        )
    if code == 13:  # mongod asks no privilege for it: a proxy or a hosted service refused
        return (
            "This server refuses configureFailPoint (13 Unauthorized): fail points need a "
            "deployment of your own with test commands enabled."
        )
    return None

"""The `failCommand` fail point (configureFailPoint), as MongoDB's test builds offer it.

Reference §7: evaluated before option validation and session checkout, so an injected
error leaves the transaction exactly as it was.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import CommandError, code_name

if TYPE_CHECKING:
    from .connections import Connection
    from .state import ServerState

NEVER_FAILED = frozenset({"configureFailPoint", "hello", "isMaster", "ismaster"})
# failGetMoreAfterCursorCheckout fails getMore with data.errorCode (used by the change
# stream resume spec tests); it takes the same data as failCommand, for getMore only.
# onPrimaryTransactionalWrite and maxTimeAlwaysTimeOut are the test-only fail points the
# drivers' own tests use (retryable writes README; pymongo's maxTimeMS tests).
# waitAfterNewStatementBlocksBehindPrepare marks a statement waiting behind its session's
# prepared transaction in $currentOp (prepare.py; jstests of prepared transactions).
# hangBeforeWritingDecision holds a shard's transaction coordinator after its decision,
# leaving the participants prepared (sharding/commit.py; MongoDB's name for it in
# db/s/transaction_coordinator.cpp).
FAIL_POINTS = (
    "failCommand",
    "failGetMoreAfterCursorCheckout",
    "onPrimaryTransactionalWrite",
    "maxTimeAlwaysTimeOut",
    "waitAfterNewStatementBlocksBehindPrepare",
    "hangAndFailAfterCreateCollectionReservesOpTime",
    # A secondary's replication stops while these are on (replication.applier).
    "stopReplProducer",
    "rsSyncApplyStop",
    "hangBeforeWritingDecision",
    # prepareTransaction holds with its oplog slot reserved, a hole (prepare.py).
    "hangAfterReservingPrepareTimestamp",
)


@dataclass
class FailPoint:
    mode: str  # alwaysOn / times / skip
    count: int
    data: dict[str, Any]


@dataclass
class FailAction:
    error_code: int | None = None
    error_labels: list[str] | None = None
    close: bool = False
    block_ms: float = 0
    write_concern_error: dict[str, Any] | None = None
    after_checkout: bool = False  # failGetMoreAfterCursorCheckout


def configure(state: ServerState, name: str, mode: Any, data: Any) -> None:
    if name not in FAIL_POINTS:
        raise CommandError(
            2,
            f"Cannot find fail point '{name}' (the sandbox implements {', '.join(FAIL_POINTS)})",
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CommandError(14, "'data' must be an object")
    if mode == "off":
        state.fail_points.pop(name, None)
        _wake(state)
        return
    if mode == "alwaysOn":
        fp = FailPoint("alwaysOn", 0, data)
    elif isinstance(mode, dict) and len(mode) == 1 and next(iter(mode)) in ("times", "skip"):
        kind, n = next(iter(mode.items()))
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise CommandError(2, f"'{kind}' must be a non-negative integer")
        fp = FailPoint(kind, int(n), data)
        if kind == "times" and n == 0:
            state.fail_points.pop(name, None)
            return
    else:
        raise CommandError(2, "'mode' must be 'alwaysOn', 'off', {times: n} or {skip: n}")
    commands = data.get("failCommands")
    if commands is not None and (
        not isinstance(commands, list) or not all(isinstance(c, str) for c in commands)
    ):
        raise CommandError(2, "'failCommands' must be an array of command names")
    state.fail_points[name] = fp
    _wake(state)


def enter(state: ServerState, name: str) -> None:
    """Count an entry into fail point `name` (FailPoint's timesEntered) and wake waiters."""
    state.fail_point_counts[name] = state.fail_point_counts.get(name, 0) + 1
    _wake(state)


def _wake(state: ServerState) -> None:
    event = state.fail_point_event
    if event is not None:
        state.fail_point_event = None
        event.set()


async def changed(state: ServerState) -> None:
    """Wait for the next entry into, or configuration of, any fail point."""
    event = state.fail_point_event
    if event is None:
        event = state.fail_point_event = asyncio.Event()
    await event.wait()


def _integer(value: Any) -> int | None:
    """bsonExtractIntegerField: an int, or a double with an integral value; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _fires(state: ServerState, name: str) -> FailPoint | None:
    """Whether fail point `name` fires now, counting its times / skip (FailPoint::shouldFail)."""
    fp = state.fail_points.get(name)
    if fp is None:
        return None
    if fp.mode == "skip":
        if fp.count > 0:
            fp.count -= 1
            return None
    elif fp.mode == "times":
        fp.count -= 1
        if fp.count <= 0:
            state.fail_points.pop(name, None)
    return fp


def max_time_always_times_out(state: ServerState) -> bool:
    """maxTimeAlwaysTimeOut: an operation with a deadline finds it expired at its first
    interrupt check [srv:db/operation_context.cpp OperationContext::hasDeadlineExpired]."""
    return _fires(state, "maxTimeAlwaysTimeOut") is not None


@dataclass
class TransactionalWriteAction:
    close: bool
    fail_code: int | None


def on_primary_transactional_write(state: ServerState) -> TransactionalWriteAction | None:
    """onPrimaryTransactionalWrite fires when a retryable write (txnNumber, no transaction)
    commits. closeConnection (default true) ends the connection after the write; with
    failBeforeCommitExceptionCode the write fails with that code and is not applied
    [srv:db/transaction_participant.cpp onWriteOpCompletedOnPrimary; retryable-writes
    tests README]."""
    fp = _fires(state, "onPrimaryTransactionalWrite")
    if fp is None:
        return None
    code = fp.data.get("failBeforeCommitExceptionCode")
    if isinstance(code, float) and math.isfinite(code):
        code = int(code)
    return TransactionalWriteAction(
        close=fp.data.get("closeConnection", True) is not False,
        fail_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
    )


def evaluate_fail_command(
    state: ServerState, conn: Connection, name: str, body: dict[str, Any]
) -> FailAction | None:
    if name in NEVER_FAILED:
        return None
    fp_name = "failCommand"
    fp: FailPoint | None = state.fail_points.get(fp_name)
    if name == "getMore" and "failGetMoreAfterCursorCheckout" in state.fail_points:
        fp_name = "failGetMoreAfterCursorCheckout"
        fp = state.fail_points[fp_name]
    if fp is None:
        return None
    data = fp.data
    commands = data.get("failCommands") or []
    if fp_name == "failCommand" and name not in commands:
        return None
    app = data.get("appName")
    if app is not None and conn.app_name != app:
        return None
    namespace = data.get("namespace")
    if namespace is not None and _namespace(name, body) != namespace:
        return None
    # The data is read as mongod reads it when the fail point is checked: a field of the
    # wrong type counts as absent, and the fail point fires only with closeConnection,
    # blockConnection or an integer errorCode; an unusable errorCode ("x") fails nothing
    # [srv:db/commands.cpp CommandHelpers::evaluateFailCommandFailPoint]. configureFailPoint
    # itself checks only mode and that data is an object [srv:util/fail_point.cpp parseBSON].
    close = data.get("closeConnection") is True
    block = data.get("blockConnection") is True
    error_code = _integer(data.get("errorCode"))
    wce = data.get("writeConcernError")
    if not (close or block or error_code is not None or isinstance(wce, dict)):
        return None
    if _fires(state, fp_name) is None:
        return None
    action = FailAction(after_checkout=fp_name != "failCommand", close=close)
    if block:
        block_ms = _integer(data.get("blockTimeMS"))
        if block_ms is None:
            raise CommandError(72, "must specify 'blockTimeMS' when 'blockConnection' is true")
        if block_ms < 0:
            raise CommandError(72, "'blockTimeMS' must be non-negative")
        action.block_ms = float(block_ms)
    action.error_code = error_code
    labels = data.get("errorLabels")
    if isinstance(labels, list):
        action.error_labels = [label for label in labels if isinstance(label, str)]
    if isinstance(wce, dict):
        wce = dict(wce)
        code = _integer(wce.get("code"))
        if code is not None and "codeName" not in wce:
            wce["codeName"] = code_name(code)
        action.write_concern_error = wce
    return action


def _namespace(name: str, body: dict[str, Any]) -> str | None:
    """The command's namespace as failCommand's `namespace` is compared with it
    [srv:db/commands.cpp CommandHelpers::shouldActivateFailCommandFailPoint]: db.coll, and
    for a collectionless aggregate (`aggregate: 1`, e.g. $currentOp) db.$cmd.aggregate
    [srv:db/namespace_string.cpp NamespaceString::makeCollectionlessAggregateNSS]."""
    target = body.get(name)
    if isinstance(target, str):
        return f"{body.get('$db')}.{target}"
    if name == "aggregate" and target == 1 and not isinstance(target, bool):
        return f"{body.get('$db')}.$cmd.aggregate"
    return None

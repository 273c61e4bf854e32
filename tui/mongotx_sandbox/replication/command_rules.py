"""What a member of a multi-member set adds to a command: the role checks, read concern
waits and read times, and the write concern wait after a write.

[srv:db/service_entry_point_common.cpp] refuses writes on a secondary with
NotWritablePrimary and reads without secondaryOk with NotPrimaryNoSecondaryOk;
[srv:db/read_concern_mongod.cpp waitForReadConcernImpl] waits for afterClusterTime;
[srv:db/repl/replication_coordinator_impl.cpp awaitReplication] waits for write concern."""

from __future__ import annotations

import time
from typing import Any

from bson.timestamp import Timestamp

from ..clock import ts_to_int
from ..errors import CommandError, code_name

TXN_END = ("commitTransaction", "abortTransaction")
# Commands that read data and so need secondaryOk on a secondary (the others are
# informational or act on this member only).
_SECONDARY_OK_READS = frozenset(
    {"listCollections", "listIndexes", "listDatabases", "dbStats", "dbstats", "collStats"}
    | {"collstats", "count", "distinct", "find", "aggregate", "mapReduce", "mapreduce"}
)


def _writes(spec: Any, name: str, body: dict[str, Any]) -> bool:
    """Whether the command writes: aggregate only with a $out or $merge stage."""
    if name == "aggregate":
        pipeline = body.get("pipeline")
        last = pipeline[-1] if isinstance(pipeline, list) and pipeline else None
        return isinstance(last, dict) and ("$out" in last or "$merge" in last)
    return bool(spec.write)


def _secondary_ok(body: dict[str, Any]) -> bool:
    """A read preference other than primary (OP_MSG's $readPreference) is secondaryOk
    [spec: server-selection.md "Passing read preference to mongos and load balancers";
    srv:db/service_entry_point_common.cpp, ReadPreferenceSetting::secondaryOk]."""
    pref = body.get("$readPreference")
    return isinstance(pref, dict) and pref.get("mode", "primary") != "primary"


def _time_limit() -> CommandError:
    return CommandError(50, "operation exceeded time limit")


async def before_command(member: Any, ctx: Any, spec: Any, name: str, body: dict[str, Any]) -> None:
    """Refuse what this member's role refuses, then wait for and pick the read's time."""
    rs = member.rs
    in_txn = "autocommit" in body
    if not member.is_primary:
        if name == "aggregate" and _writes(spec, name, body) and _secondary_ok(body):
            # Since 5.0 an aggregate with $out or $merge runs on a secondary its read
            # preference selects, its writes going to the primary [manual: $out, $merge,
            # "Read Preference"]: the members share one store, so it runs as it is.
            return
        if in_txn or name in TXN_END or _writes(spec, name, body):
            # A transaction's statements run on the primary only
            # [srv:db/transaction/transaction_participant.cpp beginOrContinue].
            raise CommandError(10107, "not primary")
        if name in _SECONDARY_OK_READS and not _secondary_ok(body):
            raise CommandError(13435, "not primary and secondaryOk=false")
    if in_txn or not spec.reads or _writes(spec, name, body):
        return
    rc = body.get("readConcern")
    if not isinstance(rc, dict):
        rc = {}
    level = rc.get("level")
    if level == "linearizable":
        if not member.is_primary:
            raise CommandError(
                10107, "cannot satisfy linearizable read concern on non-primary node"
            )
        # A linearizable read returns once what it reads is majority-committed
        # [manual: Read Concern "linearizable"].
        target = rs.optime(member)
        if not await rs.wait_until(lambda: rs.commit_point >= target, ctx.deadline):
            raise _time_limit()
    after = rc.get("afterClusterTime")
    if level == "snapshot" and isinstance(rc.get("atClusterTime"), Timestamp):
        after = rc["atClusterTime"]
    if isinstance(after, Timestamp) and (level == "majority" or not member.is_primary):
        # A time past the primary's last write is reached by the no-op write the secondary
        # asks of the primary [srv:db/read_concern_mongod.cpp makeNoopWriteIfNeeded].
        target = min(ts_to_int(after), rs.last_write())
        if level == "majority":
            ready = lambda: rs.majority_point(member) >= target  # noqa: E731
        else:
            ready = lambda: member.applied >= target  # noqa: E731
        if not await rs.wait_until(ready, ctx.deadline):
            raise _time_limit()
    if level == "majority" or (level == "snapshot" and "atClusterTime" not in rc):
        # Majority reads, and snapshot reads given no time, read at the majority commit
        # point [manual: Read Concern "majority"; Read Concern "snapshot", atClusterTime].
        ctx.snapshot = rs.majority_point(member)
    elif not member.is_primary:
        ctx.snapshot = member.applied  # a secondary reads its last applied batch
    else:
        return
    # The reply's operationTime is the time read at, which a causally consistent session
    # then asks later reads to be after [spec: causal-consistency, operationTime].
    ctx.operation_time = ctx.snapshot


async def after_command(
    member: Any, ctx: Any, spec: Any, name: str, body: dict[str, Any], reply: dict[str, Any]
) -> None:
    """Wait for the write concern of a write on the primary; on timeout a
    writeConcernError 64 with errInfo.wtimeout (spec: transactions/error-labels.json)."""
    if not spec.write or ("autocommit" in body and name not in TXN_END):
        return
    rs = member.rs
    session = ctx.session
    if "txnNumber" in body and "autocommit" not in body and ctx.wrote and session is not None:
        rs.note_retryable_write(ctx.session_key, body["txnNumber"], ctx.last_write_seq)
    if "writeConcernError" in reply or not member.is_primary:
        return
    wc = body.get("writeConcern")
    if not isinstance(wc, dict):
        wc = {}
    # Without arbiters the implicit default write concern is majority, also for a
    # writeConcern that gives no `w` [manual: Default MongoDB Read Concerns/Write Concerns].
    w = wc.get("w", "majority")
    if isinstance(w, int | float) and not isinstance(w, bool) and w <= 1:
        return
    target = ctx.last_write_seq if ctx.wrote else ctx.operation_time or rs.last_write()
    target = min(target, rs.last_write())
    if w == "majority":
        ready = lambda: rs.commit_point >= target or not member.is_primary  # noqa: E731
    elif isinstance(w, int | float):
        ready = lambda: rs.acknowledged(target) >= w or not member.is_primary  # noqa: E731
    else:
        return  # an unknown mode: concerns.py answered 79 already
    deadline = ctx.deadline
    wtimeout = wc.get("wtimeout")
    limit_is_wtimeout = False
    if isinstance(wtimeout, int | float) and not isinstance(wtimeout, bool) and wtimeout > 0:
        by_wtimeout = time.monotonic() + wtimeout / 1000
        if deadline is None or by_wtimeout < deadline:
            deadline, limit_is_wtimeout = by_wtimeout, True
    done = await rs.wait_until(ready, deadline)
    if not member.is_primary:
        # [srv:db/repl/replication_coordinator_impl.cpp _awaitReplication_inlock]
        reply["writeConcernError"] = _wce(189, "Primary stepped down while waiting for replication")
    elif not done and limit_is_wtimeout:
        wce = _wce(64, "waiting for replication timed out")
        wce["errInfo"] = {"wtimeout": True}
        reply["writeConcernError"] = wce
    elif not done:
        reply["writeConcernError"] = _wce(50, "operation exceeded time limit")


def _wce(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "codeName": code_name(code), "errmsg": message}

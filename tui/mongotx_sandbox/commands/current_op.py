"""What is running: `$currentOp`'s documents, the `currentOp` command and `killOp`
(issue 17, D6 and D15)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from bson.int64 import Int64

from .. import engine, prepare
from ..access import OpContext, engine_error
from ..clock import int_to_ts
from ..errors import CommandError
from ..operations import RunningOp
from ..state import session_key
from ..transactions import ServerSession, Transaction
from .common import GENERIC_ARGUMENTS, integer_arg
from .registry import command

# Fields of the currentOp command that are not part of its filter: its own options and the
# generic arguments every command accepts [srv:db/commands/current_op_common.cpp
# CurrentOpCommandBase::run; idl/generic_argument.idl].
_OPTIONS = frozenset({"$all", "$ownOps", "$truncateOps"})
# The $currentOp stage's options (all booleans).
_STAGE_OPTIONS = frozenset(
    {
        "allUsers",
        "idleConnections",
        "idleCursors",
        "idleSessions",
        "localOps",
        "truncateOps",
        "backtrace",
        "targetAllNodes",
    }
)


def current_op(ctx: OpContext, options: dict[str, Any]) -> list[dict[str, Any]]:
    """$currentOp's documents [manual: aggregation/currentOp; srv:db/curop.cpp
    CurOp::reportState, db/transaction/transaction_participant.cpp reportStashedState]:

    - every running operation (`type: "op"`, `active: true`, with its `opid`, `command`,
      `waitingForLock`, `secs_running`), a statement of a transaction with the
      transaction's state too;
    - with `idleSessions` (default true), each open transaction whose session runs nothing
      (`type: "idleSession"`, `desc: "inactive transaction"`);
    - with `idleConnections` (default false), each connection that runs nothing;
    - with `idleCursors` (default false), each open cursor between its batches
      (`type: "idleCursor"`).

    Under --auth, without `allUsers: true` only the caller's own are listed.
    """
    if not isinstance(options, dict):
        raise CommandError(9, "$currentOp options must be specified in an object")
    for key, value in options.items():
        # [srv:db/pipeline/document_source_current_op.cpp createFromBson]
        if key not in _STAGE_OPTIONS:
            raise CommandError(9, f"Unrecognized option '{key}' in $currentOp stage.")
        if not isinstance(value, bool):
            raise CommandError(
                9, f"The '{key}' parameter of the $currentOp stage must be a boolean value"
            )
    state = ctx.state
    now_wall = time.time()
    now_mono = time.monotonic()
    out: list[dict[str, Any]] = []
    busy_connections = set()
    busy_sessions = set()
    for op in list(state.operations.running.values()):
        busy_connections.add(op.connection_id)
        entry = _op_entry(ctx, op, now_wall, now_mono)
        lsid = op.body.get("lsid")
        if isinstance(lsid, dict):
            key = session_key(lsid)
            busy_sessions.add(key)
            sess = state.sessions.get(key)
            txn = sess.txn if sess is not None else None
            if txn is not None and txn.open and "autocommit" in op.body:
                entry["transaction"] = _txn_report(txn, now_mono)
        out.append(entry)
    if options.get("idleSessions", True):
        for key, sess in list(state.sessions.items()):
            txn = sess.txn
            if key in busy_sessions or txn is None or not txn.open:
                continue
            out.append(_idle_session_entry(ctx, sess, txn, now_mono))
    if options.get("idleCursors", False):
        for cursor in list(state.cursors.values()):
            if "change_stream" in getattr(cursor, "extra", {}):
                continue
            out.append(
                {
                    "type": "idleCursor",
                    "host": state.host,
                    "ns": cursor.ns,
                    "cursor": {
                        "cursorId": Int64(cursor.id),
                        "nDocsReturned": Int64(cursor.returned),
                        "tailable": False,
                        "awaitData": False,
                        "noCursorTimeout": False,
                    },
                }
            )
    if options.get("idleConnections", False):
        for conn in list(state.connections.values()):
            if conn.id in busy_connections:
                continue
            out.append(
                {
                    "type": "op",
                    "host": state.host,
                    "desc": f"conn{conn.id}",
                    "connectionId": conn.id,
                    "client": conn.peer,
                    **({"clientMetadata": conn.client_metadata} if conn.client_metadata else {}),
                    "active": False,
                    "currentOpTime": _iso(now_wall),
                }
            )
    auth = state.auth
    if auth is not None and auth.enforced and not options.get("allUsers", False):
        out = _own(ctx, out)
    return out


def _own(ctx: OpContext, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Under --auth and without allUsers, the caller's own: operations of connections where
    the same users are logged in, idle transactions of sessions they own
    [manual: aggregation/currentOp, allUsers; auth/owners.py]."""
    from ..auth.owners import owns, users_of

    state = ctx.state
    assert state.auth is not None
    mine = users_of(ctx.connection)
    kept = []
    for doc in docs:
        if doc.get("type") == "idleSession" or doc.get("type") == "idleCursor":
            keep = "lsid" in doc and owns(state.auth, ctx.connection, doc["lsid"])
        else:
            conn = state.connections.get(doc.get("connectionId", -1))
            keep = conn is not None and users_of(conn) == mine
        if keep:
            kept.append(doc)
    return kept


def _op_entry(ctx: OpContext, op: RunningOp, now_wall: float, now_mono: float) -> dict[str, Any]:
    conn = ctx.state.connections.get(op.connection_id)
    running_us = int((now_mono - op.started_mono) * 1e6)
    entry: dict[str, Any] = {
        "type": "op",
        "host": ctx.state.host,
        "desc": f"conn{op.connection_id}",
        "connectionId": op.connection_id,
        "client": op.client,
    }
    if conn is not None and conn.client_metadata:
        if conn.app_name:
            entry["appName"] = conn.app_name
        entry["clientMetadata"] = conn.client_metadata
    entry.update({"active": True, "currentOpTime": _iso(now_wall)})
    record = getattr(conn, "auth", None)
    if record is not None and record.users:
        # The users logged in on the operation's connection [manual: currentOp output,
        # effectiveUsers; srv:db/curop.cpp reportCurrentOpForClient].
        entry["effectiveUsers"] = [{"user": name, "db": db} for name, db in record.users]
    entry.update(
        {
            "threaded": True,
            "opid": op.opid,
        }
    )
    lsid = op.body.get("lsid")
    if isinstance(lsid, dict):
        entry["lsid"] = dict(lsid)
    entry.update(
        {
            "secs_running": Int64(running_us // 1_000_000),
            "microsecs_running": Int64(running_us),
            "op": op.op,
            "ns": op.ns,
            "redacted": False,
            "command": dict(op.body),
            "numYields": 0,
            "locks": _locks(op),
            "waitingForLock": op.waiting_for_lock,
            "lockStats": _lock_stats(op),
            "waitingForFlowControl": False,
            "flowControlStats": {},
        }
    )
    if op.killed:
        entry["killPending"] = True
    write_conflicts = op.reported_write_conflicts(now_mono)
    if write_conflicts:
        # [srv:db/curop.cpp OpDebug::AdditiveMetrics::report, writeConflicts]
        entry["writeConflicts"] = Int64(write_conflicts)
    if op.prepare_read_conflicts:
        # [srv:db/curop.cpp OpDebug::AdditiveMetrics::report, prepareReadConflicts]
        entry["prepareReadConflicts"] = Int64(op.prepare_read_conflicts)
    if op.failpoint_msg is not None:
        # [srv:db/curop_failpoint_helpers.cpp waitWhileFailPointEnabled: failpointMsg]
        entry["failpointMsg"] = op.failpoint_msg
    return entry


def _locks(op: RunningOp) -> dict[str, str]:
    """The locks it holds or waits for, mongod's way: the global lock in the intent mode,
    then the database and collection (r/w intent, R/W exclusive)."""
    if op.lock is None:
        return {}
    resource, mode = op.lock
    intent = "w" if mode in ("w", "W") else "r"
    locks = {"FeatureCompatibilityVersion": intent, "Global": intent}
    if resource == "Collection":
        locks["Database"] = intent
    locks[resource] = mode
    return locks


def _lock_stats(op: RunningOp) -> dict[str, Any]:
    if op.lock is None:
        return {}
    resource, mode = op.lock
    stats: dict[str, Any] = {"acquireCount": {mode: Int64(1)}}
    if op.lock_waits:
        stats["acquireWaitCount"] = {mode: Int64(op.lock_waits)}
    return {resource: stats}


def _txn_report(txn: Transaction, now_mono: float) -> dict[str, Any]:
    """The `transaction` sub-document [srv:db/transaction/single_transaction_stats.cpp;
    reference §5.1]."""
    active = txn.active_since is not None
    open_us = int((now_mono - txn.started_mono) * 1e6)
    active_us = int((txn.time_active + ((now_mono - txn.active_since) if active else 0)) * 1e6)
    params: dict[str, Any] = {"txnNumber": Int64(txn.txn_number), "autocommit": False}
    if txn.read_concern:
        params["readConcern"] = dict(txn.read_concern)
    return {
        "parameters": params,
        "readTimestamp": int_to_ts(txn.snapshot or 0),
        "startWallClockTime": _iso(txn.started_wall),
        "timeOpenMicros": Int64(open_us),
        "timeActiveMicros": Int64(active_us),
        "timeInactiveMicros": Int64(max(0, open_us - active_us)),
        "expiryTime": _iso(txn.started_wall + txn.lifetime_seconds),
        **(prepare.report(txn, now_mono) if txn.prepared else {}),
    }


def _idle_session_entry(
    ctx: OpContext, sess: ServerSession, txn: Transaction, now_mono: float
) -> dict[str, Any]:
    """An open transaction no statement runs in [srv:db/transaction/
    transaction_participant.cpp Observer::reportStashedState]: the client of its last
    statement (`client`, `connectionId`, `appName`, `clientMetadata`: the single
    transaction stats' lastClientInfo, empty values when none) comes before `lsid`."""
    conn = txn.last_client
    metadata = conn.client_metadata if conn is not None else None
    return {
        "type": "idleSession",
        "host": ctx.state.host,
        "desc": "inactive transaction",
        "client": conn.peer if conn is not None else "",
        "connectionId": conn.id if conn is not None else 0,
        "appName": (conn.app_name or "") if conn is not None else "",
        "clientMetadata": dict(metadata) if metadata else {},
        "active": False,
        "lsid": dict(sess.lsid),
        "transaction": _txn_report(txn, now_mono),
        "waitingForLock": False,
        "locks": {},
        "lockStats": {},
    }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


@command("currentOp", admin_only=True)
async def current_op_command(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The currentOp command: `$currentOp` with `idleConnections: $all`, then the other
    fields as a `$match` filter, the results in `inprog` [srv:db/commands/
    current_op_common.cpp CurrentOpCommandBase::run]. Deprecated since 6.2 in favour of the
    stage, still served by 8.0 (the legacy shell's db.currentOp() sends it)."""
    query = {
        key: value
        for i, (key, value) in enumerate(body.items())
        if i > 0 and key not in _OPTIONS and key not in GENERIC_ARGUMENTS
    }
    docs = current_op(ctx, {"idleConnections": bool(body.get("$all")), "allUsers": True})
    if query:
        try:
            docs = [d for d in docs if engine.matches(query, d)]
        except engine.EngineError as exc:
            raise engine_error(exc) from exc
    return {"inprog": docs, "ok": 1.0}


@command("killOp", admin_only=True)
async def kill_op(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Interrupt operation `op` (an opid from currentOp): it fails with 11601 Interrupted at
    its next wait; an unknown opid is no error [srv:db/commands/kill_op.cpp,
    kill_op_cmd_base.cpp KillOpCmdBase::parseOpId; manual: db.killOp()]."""
    opid = body.get("op")
    if opid is None:
        raise CommandError(4, 'Did not provide "op" field')
    ctx.state.operations.kill(integer_arg(opid, "op"))
    return {"info": "attempting to kill op", "ok": 1.0}

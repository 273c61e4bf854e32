"""hello/isMaster, ping, buildInfo, parameters, serverStatus and other informational commands."""

from __future__ import annotations

import datetime
import math
import os
import platform
import time
from typing import TYPE_CHECKING, Any

from bson.int64 import Int64

from .. import log_verbosity, topology
from ..access import OpContext
from ..clock import int_to_ts
from ..errors import CommandError
from ..state import LOGICAL_SESSION_TIMEOUT_MINUTES
from ..wire import MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE, MAX_WRITE_BATCH_SIZE
from .registry import command

SERVER_VERSION = "8.0.4"
VERSION_ARRAY = [8, 0, 4, 0]
MAX_WIRE_VERSION = 25  # 8.0 (wireversion-featurelist.md)

if TYPE_CHECKING:
    from ..auth import AuthState


def hello_reply(ctx: OpContext, body: dict[str, Any], legacy: bool) -> dict[str, Any]:
    """A writable one-member replica-set primary that supports sessions (reference §1.5).

    One member leaves `topologyVersion` out on purpose: without awaitable hello the driver
    polls instead of spinning (§1.6). A multi-member set sends it and answers awaitable
    hellos (replication.ReplicaSet.await_hello), so drivers stream its changes.
    """
    state = ctx.state
    conn = ctx.connection
    assert conn is not None  # dispatch gives every client command its connection
    conn.remember_client(body.get("client"))
    deployment = topology.of(state)
    me = deployment.me
    now = int_to_ts(state.clock.now() if me.optime is None else me.optime)
    wall = _utc(state.clock.wall())
    written = wall if me.optime_wall is None else _utc(me.optime_wall)
    majority = now if deployment.commit_point is None else int_to_ts(deployment.commit_point)
    majority_wall = wall if deployment.commit_wall is None else _utc(deployment.commit_wall)
    writable = me.state == 1
    primary = deployment.primary
    reply: dict[str, Any] = {}
    if body.get("helloOk"):
        reply["helloOk"] = True
    if deployment.topology_version is not None:
        reply["topologyVersion"] = deployment.topology_version
    reply[("ismaster" if legacy else "isWritablePrimary")] = writable
    if deployment.set_name is not None:
        reply.update(
            {
                "hosts": deployment.hosts,
                "setName": deployment.set_name,
                "setVersion": deployment.set_version,
                "secondary": me.state == 2,
            }
        )
        if primary is not None:
            reply["primary"] = primary.host
        reply["me"] = me.host
        if writable:
            # Only a primary reports its election (hello's electionId field).
            reply["electionId"] = deployment.election_id
        term = Int64(deployment.term)
        reply["lastWrite"] = {
            "opTime": {"ts": now, "t": term},
            "lastWriteDate": written,
            "majorityOpTime": {"ts": majority, "t": term},
            "majorityWriteDate": majority_wall,
        }
    reply.update(
        {
            "maxBsonObjectSize": MAX_BSON_OBJECT_SIZE,
            "maxMessageSizeBytes": MAX_MESSAGE_SIZE,
            "maxWriteBatchSize": MAX_WRITE_BATCH_SIZE,
            "localTime": wall,
            "logicalSessionTimeoutMinutes": LOGICAL_SESSION_TIMEOUT_MINUTES,
            "connectionId": conn.id,
            "minWireVersion": 0,
            "maxWireVersion": MAX_WIRE_VERSION,
            "readOnly": False,
            "ok": 1.0,
        }
    )
    if state.auth is not None:
        _auth_fields(state.auth, conn, body, reply)
    return reply


def _auth_fields(
    auth: AuthState, conn: object, body: dict[str, Any], reply: dict[str, Any]
) -> None:
    """saslSupportedMechs and speculativeAuthenticate, when the client asks (auth/sasl.py)."""
    from ..auth import sasl

    if "saslSupportedMechs" in body:
        mechs = sasl.supported_mechs(auth, body["saslSupportedMechs"])
        if mechs is not None:
            reply["saslSupportedMechs"] = mechs
    if "speculativeAuthenticate" in body:
        spec = sasl.speculative(auth, conn, body["speculativeAuthenticate"])
        if spec is not None:
            reply["speculativeAuthenticate"] = spec


@command("hello", informational=True)
async def hello(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    if ctx.state.replica is not None:
        await ctx.state.replica.await_hello(body)
    return hello_reply(ctx, body, legacy=False)


@command("isMaster", "ismaster", informational=True)
async def is_master(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    if ctx.state.replica is not None:
        await ctx.state.replica.await_hello(body)
    return hello_reply(ctx, body, legacy=True)


@command("ping", informational=True)
async def ping(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": 1.0}


@command("buildInfo", "buildinfo", informational=True)
async def build_info(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": SERVER_VERSION,
        "gitVersion": "mongotx-sandbox",
        "versionArray": VERSION_ARRAY,
        "modules": [],
        "allocator": "system",
        "javascriptEngine": "none",
        "sysInfo": "deprecated",
        "bits": 64,
        "debug": False,
        "maxBsonObjectSize": MAX_BSON_OBJECT_SIZE,
        "storageEngines": ["mongotx-sandbox"],
        "sandbox": True,
        "ok": 1.0,
    }


@command("connectionStatus", informational=True)
async def connection_status(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    auth = ctx.state.auth
    record = getattr(ctx.connection, "auth", None)
    users = list(record.users) if record is not None else []
    roles = auth.roles_of(record) if auth is not None else []
    return {
        "authInfo": {
            "authenticatedUsers": [{"user": name, "db": db} for name, db in users],
            "authenticatedUserRoles": [{"role": role, "db": db} for role, db in roles],
        },
        "ok": 1.0,
    }


@command("whatsmyuri")
async def whats_my_uri(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    assert ctx.connection is not None  # dispatch gives every client command its connection
    return {"you": ctx.connection.peer, "ok": 1.0}


@command("getCmdLineOpts", admin_only=True)
async def get_cmd_line_opts(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "argv": ["mongotx-sandbox"],
        "parsed": {"replication": {"replSet": ctx.state.replset}, "setParameter": {}},
        "ok": 1.0,
    }


_SETTABLE = {
    "transactionLifetimeLimitSeconds": 1,  # minimum (transaction_participant.idl)
    "maxTransactionLockRequestTimeoutMillis": None,
    "minSnapshotHistoryWindowInSeconds": 0,  # validator gte: 0 (snapshot_window_options.idl)
    # Server-side JavaScript limits (query_knobs.idl) and the single-value reduce switch
    # (SERVER-68766); mapReduce reads them.
    "internalQueryJavaScriptFnTimeoutMillis": 1,
    "internalQueryJavaScriptHeapSizeLimitMB": 1,
    "mrEnableSingleReduceOptimization": None,
    # Idle cursors (cursor_server_params.idl; cursors.expire_idle).
    "cursorTimeoutMillis": None,
    "enableTimeoutOfInactiveSessionCursors": None,
}
_BOOLEAN = frozenset({"mrEnableSingleReduceOptimization", "enableTimeoutOfInactiveSessionCursors"})


@command("getParameter", admin_only=True)
async def get_parameter(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    params = ctx.state.parameters
    arg = body["getParameter"]
    reply: dict[str, Any] = {}
    if arg == "*" or (isinstance(arg, dict) and arg.get("allParameters")):
        reply.update(params)
    else:
        wanted = [k for k in body if k not in ("getParameter", "$db", "lsid", "$clusterTime")]
        wanted = [k for k in wanted if not k.startswith("$")]
        for key in wanted:
            if key in params:
                reply[key] = params[key]
            elif key == log_verbosity.KEY:
                reply[key] = log_verbosity.current(params)
        if not reply:
            raise CommandError(72, "no option found to get")
    reply["ok"] = 1.0
    return reply


@command("setParameter", admin_only=True)
async def set_parameter(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    params = ctx.state.parameters
    reply: dict[str, Any] = {}
    changed = False
    for key, value in body.items():
        if key == "setParameter" or key.startswith("$") or key in ("lsid", "comment"):
            continue
        if key == log_verbosity.KEY:
            reply["was"] = log_verbosity.set_verbosity(params, value)
            changed = True
            continue
        if key not in _SETTABLE:
            raise CommandError(
                72,
                f"attempted to set unrecognized parameter [{key}] (the sandbox supports "
                f"{', '.join(sorted(_SETTABLE))})",
            )
        if key in _BOOLEAN:
            if not isinstance(value, bool):
                raise CommandError(14, f"parameter {key} must be a boolean")
            reply["was"] = params[key]
            params[key] = value
            changed = True
            continue
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise CommandError(14, f"parameter {key} must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            # An int parameter coerces its value; NaN and infinity do not coerce
            # [srv:idl/server_parameter_with_storage.h set, BSONElement::coerce].
            raise CommandError(2, f"Invalid value for parameter {key}: {value}")
        minimum = _SETTABLE[key]
        if minimum is not None and value < minimum:
            raise CommandError(2, f"{key} must be at least {minimum}")
        reply["was"] = params[key]
        params[key] = int(value)
        changed = True
    if not changed:
        raise CommandError(72, "no option found to set, use help:true to see options ")
    reply["ok"] = 1.0
    return reply


@command("serverStatus", informational=True)
async def server_status(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    state = ctx.state
    deployment = topology.of(state)
    open_txns = state.open_transactions()
    active = sum(1 for t in open_txns if t.active_since is not None)
    stats = state.stats
    return {
        "host": state.host,
        "version": SERVER_VERSION,
        "process": "mongod",
        "pid": Int64(os.getpid()),
        "uptime": float(int(time.time() - state.started)),
        "uptimeMillis": Int64(int((time.time() - state.started) * 1000)),
        "localTime": datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
        "connections": {
            "current": len(state.connections),
            "totalCreated": state.next_connection_id - 1,
        },
        "repl": {
            "setName": deployment.set_name,
            "isWritablePrimary": deployment.me.state == 1,
            "hosts": deployment.hosts,
        },
        "transactions": {
            "retriedCommandsCount": Int64(stats.retried_commands),
            "retriedStatementsCount": Int64(stats.retried_statements),
            "transactionsCollectionWriteCount": Int64(0),
            "currentActive": Int64(active),
            "currentInactive": Int64(len(open_txns) - active),
            "currentOpen": Int64(len(open_txns)),
            "totalAborted": Int64(stats.total_aborted),
            "totalCommitted": Int64(stats.total_committed),
            "totalStarted": Int64(stats.total_started),
            # [srv:db/transaction/server_transactions_metrics.cpp updateStats]
            "totalPrepared": Int64(stats.total_prepared),
            "totalPreparedThenCommitted": Int64(stats.total_prepared_then_committed),
            "totalPreparedThenAborted": Int64(stats.total_prepared_then_aborted),
            "currentPrepared": Int64(len(state.prepared)),
        },
        "logicalSessionRecordCache": {"activeSessionsCount": len(state.sessions)},
        "storageEngine": {"name": "mongotx-sandbox", "supportsSnapshotReadConcern": True},
        "sandbox": {"python": platform.python_version()},
        "ok": 1.0,
    }


@command("hostInfo")
async def host_info(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "system": {"hostname": ctx.state.host, "numCores": os.cpu_count() or 1},
        "os": {"type": platform.system(), "name": platform.platform()},
        "ok": 1.0,
    }


def _member_config(member: topology.Member) -> dict[str, Any]:
    delay = int(member.delay_secs)
    return {
        "_id": member.id,
        "host": member.host,
        "arbiterOnly": False,
        "buildIndexes": True,
        "hidden": False,
        "priority": 1.0,
        "tags": {},
        "secondaryDelaySecs": Int64(delay),
        "votes": 1,
    }


@command("replSetGetStatus", admin_only=True)
async def repl_set_get_status(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """What `rs.status()` shows: each member's state and optime, and the majority commit
    point (manual: replSetGetStatus)."""
    state = ctx.state
    deployment = topology.of(state)
    if deployment.set_name is None:
        raise CommandError(76, "not running with --replSet")
    wall = _utc(state.clock.wall())
    term = Int64(deployment.term)
    me = deployment.me

    def optime(value: int | None) -> dict[str, Any]:
        return {"ts": int_to_ts(state.clock.now() if value is None else value), "t": term}

    committed = optime(deployment.commit_point)
    return {
        "set": deployment.set_name,
        "date": wall,
        "myState": me.state,
        "term": term,
        "heartbeatIntervalMillis": Int64(2000),
        "optimes": {
            "lastCommittedOpTime": committed,
            "appliedOpTime": optime(me.optime),
            "durableOpTime": optime(me.optime),
        },
        "members": [
            _member_status(deployment, member, optime, wall) for member in deployment.members
        ],
        "ok": 1.0,
    }


def _member_status(
    deployment: topology.Topology, member: topology.Member, optime: Any, wall: datetime.datetime
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "_id": member.id,
        "name": member.host,
        "health": 0.0 if member.state == 8 else 1.0,
        "state": member.state,
        "stateStr": member.state_str,
        "uptime": int(time.time() - deployment.started),
        "optime": optime(member.optime),
        "optimeDate": wall if member.optime_wall is None else _utc(member.optime_wall),
    }
    if member.state == 1:
        out["electionId"] = deployment.election_id
    out["configVersion"] = deployment.set_version
    out["configTerm"] = deployment.term
    out["self"] = member.is_self
    if deployment.topology_version is not None:
        # The sandbox's own fields: how far this member trails the primary, its delay.
        out["lagSecs"] = member.lag_secs
        out["delaySecs"] = member.delay_secs
    return out


def _utc(seconds: float) -> datetime.datetime:
    """A wall time as BSON dates carry it (UTC, milliseconds)."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)


@command("replSetGetConfig", admin_only=True)
async def repl_set_get_config(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """What `rs.conf()` shows: a one-member set."""
    deployment = topology.of(ctx.state)
    if deployment.set_name is None:
        raise CommandError(76, "not running with --replSet")
    return {
        "config": {
            "_id": deployment.set_name,
            "version": deployment.set_version,
            "term": deployment.term,
            "members": [_member_config(m) for m in deployment.members],
            "protocolVersion": Int64(1),
            "writeConcernMajorityJournalDefault": True,
            "settings": {
                "chainingAllowed": True,
                "heartbeatIntervalMillis": 2000,
                "electionTimeoutMillis": deployment.election_timeout_ms,
            },
        },
        "ok": 1.0,
    }

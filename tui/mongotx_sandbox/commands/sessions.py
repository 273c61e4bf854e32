"""commitTransaction, abortTransaction and session management commands."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from bson.binary import Binary

from .. import engine, prepare
from ..access import OpContext
from ..concerns import add_write_concern_error
from ..errors import CommandError
from ..state import LOGICAL_SESSION_TIMEOUT_MINUTES, session_key
from ..transactions import ServerTxnState
from .common import GENERIC_ARGUMENTS
from .registry import command

# commitTransaction's own fields and the generic arguments a router or shard adds
# [srv:db/transaction/transaction_commands.idl commitTransaction; idl/generic_argument.idl].
_COMMIT_FIELDS = GENERIC_ARGUMENTS | {
    "commitTransaction",
    "commitTimestamp",
    "recoveryToken",
    "txnRetryCounter",
    "maxTimeMSOpOnly",
    "$queryOptions",
    "mayBypassWriteBlocking",
}


def check_commit_fields(body: dict[str, Any]) -> None:
    """An unknown field is an IDL parse error (40415), found before a committed
    transaction's commit is answered again (jstests errors_on_committed_transaction.js)."""
    for key in body:
        if key not in _COMMIT_FIELDS:
            raise CommandError(40415, f"BSON field 'commitTransaction.{key}' is an unknown field.")


@command("commitTransaction", admin_only=True, in_transaction=True, write=True)
async def commit_transaction(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    txn = ctx.txn
    assert txn is not None  # dispatch refuses commit outside a transaction
    check_commit_fields(body)
    # A prepared transaction commits only at a commitTimestamp, an unprepared one never
    # takes one (prepare.check_commit).
    commit_ts = prepare.commit_timestamp(body)
    if txn.open:
        prepare.check_commit(txn, commit_ts)
    if txn.prepared:
        assert commit_ts is not None
        ctx.operation_time = prepare.commit_prepared(ctx, txn, commit_ts)
    elif txn.state is ServerTxnState.IN_PROGRESS:
        ctx.operation_time = ctx.state.commit(txn)
    reply: dict[str, Any] = {"ok": 1.0}
    add_write_concern_error(ctx.state, body, reply)
    return reply


@command("abortTransaction", admin_only=True, in_transaction=True, write=True)
async def abort_transaction(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    txn = ctx.txn
    assert txn is not None
    ctx.state.abort(txn, "abortTransaction", prepared=True)
    reply: dict[str, Any] = {"ok": 1.0}
    add_write_concern_error(ctx.state, body, reply)
    return reply


def _lsids(value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) and "id" in v for v in value):
        raise CommandError(14, f"'{name}' must be an array of session ids")
    for v in value:
        # Each is a LogicalSessionFromClient: id a UUID, uid a SHA-256, both binData
        # [srv:db/session/logical_session_id.idl].
        for key in ("id", "uid"):
            if key in v and not isinstance(v[key], bytes):
                raise CommandError(
                    14,
                    f"BSON field '{name}.{key}' is the wrong type "
                    f"'{engine.type_name(v[key])}', expected type 'binData'",
                )
    return value


def _end(ctx: OpContext, lsid: dict[str, Any], reason: str) -> None:
    key = session_key(lsid)
    sess = ctx.state.sessions.get(key)
    if sess is None:
        return
    # Ending or killing a session aborts its open transaction at once; the server would
    # reap it at the next session-cache refresh (reference §5.2: a safe simplification).
    if sess.txn is not None and sess.txn.prepared:
        # A prepared transaction outlives a kill or end of its session: only commit or
        # abort ends it [srv:db/session/kill_sessions_local.cpp
        # killSessionsAbortUnpreparedTransactions].
        return
    if sess.txn is not None and sess.txn.open:
        ctx.state.abort(sess.txn, reason)
    # The in-memory session goes; its record (config.transactions) stays.
    ctx.state.forget_session(key)
    running = sess.running
    if running is not None and running is not asyncio.current_task() and reason != "endSessions":
        # killSessions interrupts the session's running operation with 11601 (reference §5.2).
        sess.interrupted = True
        running.cancel()
    if reason != "endSessions":
        # So are the session's statements still waiting to check it out: killing a session
        # kills every operation of it in progress [srv:db/session/kill_sessions_local.cpp
        # killSessionsLocal, via killSessionsLocalKillOps; manual: killSessions,
        # "In-progress Operations"].
        _kill_waiting(ctx, key, running)
    for cursor_id, cursor in list(ctx.state.cursors.items()):
        if getattr(cursor, "lsid_key", None) == key:
            del ctx.state.cursors[cursor_id]


def _kill_waiting(ctx: OpContext, key: Any, running: asyncio.Task[Any] | None) -> None:
    operations = ctx.state.operations
    for op in list(operations.running.values()):
        lsid = op.body.get("lsid")
        if op.task in (running, asyncio.current_task()) or not isinstance(lsid, dict):
            continue
        if session_key(lsid) != key:
            continue
        operations.kill(op.opid)


def _not_mine(ctx: OpContext, lsid: dict[str, Any], kill: bool) -> bool:
    """Under --auth, another user's session: the id names none of the caller's, so nothing
    happens to it, unless killSessions comes from a holder of killAnySession (auth/owners.py)."""
    auth = ctx.state.auth
    if auth is None or not auth.enforced:
        return False
    from ..auth.owners import may_kill, owns

    return not (may_kill if kill else owns)(auth, ctx.connection, lsid)


@command("endSessions", informational=True)
async def end_sessions(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    for lsid in _lsids(body["endSessions"], "endSessions"):
        if not _not_mine(ctx, lsid, kill=False):
            _end(ctx, lsid, "endSessions")
    return {"ok": 1.0}


@command("killSessions")
async def kill_sessions(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    for lsid in _lsids(body["killSessions"], "killSessions"):
        if not _not_mine(ctx, lsid, kill=True):
            _end(ctx, lsid, "killSessions")
    return {"ok": 1.0}


@command("killAllSessions", "killAllSessionsByPattern")
async def kill_all_sessions(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    # Without authentication every session matches (reference §5.2).
    own = ctx.session.lsid if ctx.session is not None else None
    for sess in list(ctx.state.sessions.values()):
        if own is not None and session_key(sess.lsid) == session_key(own):
            continue
        _end(ctx, sess.lsid, "killAllSessions")
    return {"ok": 1.0}


@command("refreshSessions", informational=True)
async def refresh_sessions(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    for lsid in _lsids(body["refreshSessions"], "refreshSessions"):
        ctx.state.session(lsid)
    return {"ok": 1.0}


@command("startSession")
async def start_session(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    lsid = {"id": Binary(uuid.uuid4().bytes, 4)}
    ctx.state.session(lsid)
    return {"id": lsid, "timeoutMinutes": LOGICAL_SESSION_TIMEOUT_MINUTES, "ok": 1.0}

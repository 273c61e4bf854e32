"""From a decoded request to a reply: session fields, transaction rules, labels, times.

The order of the steps follows the server's command path (reference §3.6): fail point,
then session-field validation, then session checkout and beginOrContinue, then the
command. Errors raised before checkout leave the transaction untouched; errors after
it abort the transaction.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING, Any

from bson.binary import Binary
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.timestamp import Timestamp

from . import commands, engine, oplog_holes, prepare, profiler, waits
from .access import OpContext
from .clock import int_to_ts, ts_to_int
from .concerns import add_write_concern_error, validate_write_concern
from .connections import Connection
from .errors import (
    RETRIABLE_CODES,
    TRANSIENT_CODES,
    CloseConnection,
    CommandError,
    internal_error,
)
from .state import ServerState
from .transactions import ServerSession, ServerTxnState, Transaction
from .wire import OP_QUERY, Request

if TYPE_CHECKING:
    from .failpoints import FailAction
    from .operations import RunningOp

HELLO_NAMES = frozenset({"hello", "isMaster", "ismaster"})
TXN_END = frozenset({"commitTransaction", "abortTransaction"})
SNAPSHOT_READS = frozenset({"find", "aggregate", "distinct", "getMore"})
_READ_CONCERN_LEVELS = frozenset({"local", "majority", "linearizable", "available", "snapshot"})
# Codes after which a driver resumes a change stream: the server labels them on getMore
# (spec: change-streams-resume-errorLabels.json; server error_labels.cpp).
RESUMABLE_CHANGE_STREAM_CODES = frozenset(
    {6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 234, 133}
)
# Without authentication mongod hands out a dummy-signed cluster time: keyId 0 and a hash
# of 20 zero bytes (reference §1.8).
_ZERO_HASH = Binary(bytes(20), 0)


def _command_name(body: dict[str, Any]) -> str:
    for key in body:
        return key
    raise CommandError(9, "Command document is empty")


async def handle(state: ServerState, conn: Connection, req: Request) -> dict[str, Any] | None:
    """Run one request; return the reply document (None: send nothing)."""
    body = req.body
    reply_ctx: dict[str, Any] = {}
    name = "?"
    try:
        name = _command_name(body)
        if req.op_code == OP_QUERY:
            if name not in HELLO_NAMES:
                raise CommandError(
                    352,
                    f"Unsupported OP_QUERY command: {name}. The client driver may require an "
                    "upgrade. The sandbox accepts OP_QUERY only for hello and isMaster.",
                )
            body.setdefault("$db", req.legacy_collection.split(".", 1)[0] or "admin")
        reply = await _run_op(state, conn, req, name, body, reply_ctx)
    except CommandError as exc:
        if exc.code == 1:  # an InternalError raised below (the engine's): a bug, logged once
            exc = internal_error(name if commands.lookup(name) else "?", exc.__cause__ or exc)
        reply = exc.to_reply()
        labels = exc.labels
        if labels is None:
            labels = _labels(name, body, exc.code, None)
        if labels:
            reply["errorLabels"] = labels
    except (CloseConnection, asyncio.CancelledError):
        raise
    except Exception as exc:  # a bug of ours: InternalError, logged once, no Python text
        known = commands.lookup(name) is not None
        reply = internal_error(name if known else "?", exc).to_reply()
    if req.more_to_come:
        # A moreToCome message is never answered, not even with an error: a reply would
        # be read as the answer to the client's next request (spec: message/OP_MSG.md).
        return None
    if state.replset is not None:
        # A standalone mongod sends no cluster time (causal-consistency spec).
        _stamp_times(state, reply, reply_ctx)
    return reply


def _fail_action(
    state: ServerState, conn: Connection, name: str, body: dict[str, Any]
) -> FailAction | None:
    """What the fail points do to this command (None: nothing)."""
    if not state.fail_points:
        return None  # none set (configureFailPoint sets them): failpoints.py stays unloaded
    from .failpoints import evaluate_fail_command

    return evaluate_fail_command(state, conn, name, body)


def _stamp_times(state: ServerState, reply: dict[str, Any], reply_ctx: dict[str, Any]) -> None:
    op_time = reply_ctx.get("operation_time") or state.clock.now()
    reply["$clusterTime"] = {
        "clusterTime": int_to_ts(state.clock.now()),
        "signature": {"hash": _ZERO_HASH, "keyId": Int64(0)},
    }
    reply["operationTime"] = int_to_ts(op_time)


def _labels(
    name: str, body: dict[str, Any], code: int | None, wce: dict[str, Any] | None
) -> list[str]:
    """Server-side error labels (error_labels.cpp, reference §3.12)."""
    labels: list[str] = []
    has_txn_number = "txnNumber" in body
    is_txn = has_txn_number and "autocommit" in body
    spec = commands.lookup(name)
    wce_code = wce.get("code") if wce else None
    if not isinstance(wce_code, int):
        wce_code = None  # a fail point's writeConcernError may hold anything
    if is_txn:
        if name in TXN_END:
            if code in TRANSIENT_CODES or (code == 251 and wce is None):
                labels.append("TransientTransactionError")
            elif code in RETRIABLE_CODES or wce_code in RETRIABLE_CODES:
                labels.append("RetryableWriteError")
        elif code is not None and (
            code in TRANSIENT_CODES or code == 251 or code in RETRIABLE_CODES
        ):
            labels.append("TransientTransactionError")
    elif has_txn_number and spec is not None and spec.retryable_write:
        if code in RETRIABLE_CODES or wce_code in RETRIABLE_CODES:
            labels.append("RetryableWriteError")
    return labels


async def _run_op(
    state: ServerState,
    conn: Connection,
    req: Request,
    name: str,
    body: dict[str, Any],
    reply_ctx: dict[str, Any],
) -> dict[str, Any]:
    """Run the command as one operation in progress: listed by $currentOp with its opid
    while it runs; killOp makes it fail with 11601 Interrupted wherever it waits
    [srv:db/commands/kill_op.cpp; db/operation_context.cpp checkForInterrupt] (issue 17, D6)."""
    op = state.operations.start(name, body, conn.id, conn.peer)
    reply: dict[str, Any] | None = None
    failure: CommandError | None = None
    try:
        reply = await _run(state, conn, req, name, body, reply_ctx, op)
        return reply
    except asyncio.CancelledError:
        if not op.killed:
            raise
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        failure = CommandError(11601, "operation was interrupted")
        raise failure from None
    except CommandError as exc:
        failure = exc
        raise
    finally:
        state.operations.finish(op)
        # Logged if slow, profiled if its database's level says so [srv:db/curop.cpp
        # CurOp::completeAndLogOperation].
        profiler.complete(state, conn, op, failure, reply)


async def _run(
    state: ServerState,
    conn: Connection,
    req: Request,
    name: str,
    body: dict[str, Any],
    reply_ctx: dict[str, Any],
    op: RunningOp,
) -> dict[str, Any]:
    spec = commands.lookup(name)
    if spec is None:
        raise CommandError(
            59,
            f"no such command: '{name}' (the mongotx sandbox does not implement it; "
            "see the README's table of supported commands)",
        )
    db = body.get("$db")
    if not isinstance(db, str) or not db:
        raise CommandError(40571, "OP_MSG requests require a $db argument")
    if spec.admin_only and db != "admin":
        raise CommandError(13, f"{name} may only be run against the admin database.")
    if state.auth is not None and state.auth.enforced:
        # Access control comes right after the admin-only check
        # [srv:db/commands.cpp checkAuthorizationImplPreParse].
        from .auth import authorize

        authorize(state.auth, conn, name, db, body)

    if "$clusterTime" in body:
        ct = body["$clusterTime"]
        if isinstance(ct, dict) and isinstance(ct.get("clusterTime"), Timestamp):
            state.clock.advance(ts_to_int(ct["clusterTime"]))

    # 1. failCommand fires before anything else looks at the command (reference §7).
    action = _fail_action(state, conn, name, body)
    if action is not None and action.block_ms:
        await asyncio.sleep(action.block_ms / 1000)
    if action is not None and action.close:
        raise CloseConnection()
    if action is not None and action.error_code is not None:
        labels = action.error_labels
        if action.after_checkout and labels is None:
            # getMore's own error path labels resumable errors; failCommand fires earlier.
            labels = (
                ["ResumableChangeStreamError"]
                if action.error_code in RESUMABLE_CHANGE_STREAM_CODES
                else []
            )
        raise CommandError(
            action.error_code, "Failing command via 'failCommand' failpoint", labels=labels
        )

    # 2. Session fields (initialize_operation_session_info.cpp, reference §3.1).
    lsid = body.get("lsid")
    txn_number = body.get("txnNumber")
    autocommit = body.get("autocommit")
    start = body.get("startTransaction")
    _validate_session_fields(spec, name, body, lsid, txn_number, autocommit, start)
    in_txn = autocommit is not None
    if in_txn:
        _validate_in_transaction(spec, name, body, bool(start))
    else:
        if "writeConcern" in body:
            validate_write_concern(body["writeConcern"])
        rc = body.get("readConcern")
        if isinstance(rc, dict) and rc.get("level") == "snapshot" and name not in SNAPSHOT_READS:
            # Only find, aggregate and distinct read at a snapshot outside a transaction
            # (spec: sessions/snapshot-sessions-unsupported-ops.json expects a server error).
            raise CommandError(
                72, f'Command {name} does not support {{ readConcern: {{ level: "snapshot" }} }}'
            )

    deadline = None
    max_time = _max_time_ms(body["maxTimeMS"]) if "maxTimeMS" in body else 0
    if max_time > 0:
        deadline = time.monotonic() + max_time / 1000
        if state.fail_points:
            from .failpoints import max_time_always_times_out

            if max_time_always_times_out(state):
                raise CommandError(50, "operation exceeded time limit")

    ctx = OpContext(state=state, db=db, connection=conn, deadline=deadline, op=op)
    if isinstance(body.get("let"), dict):
        ctx.let = body["let"]
    ctx.bypass_validation = body.get("bypassDocumentValidation") is True
    if state.oplog_holes.reserved:
        # A read at or after a reserved, unwritten oplog slot waits until it is written
        # (oplog_holes.py) [srv:db/read_concern_mongod.cpp waitForReadConcernImpl].
        after = oplog_holes.read_time(body)
        if after is not None and after <= state.clock.now():  # a later one is refused (72)
            await state.oplog_holes.wait_visible(after, deadline)
    replica = state.replica
    if replica is not None:
        # A member of a multi-member set: its role's refusals, read concern waits and the
        # read's time (replication.command_rules).
        await replica.before_command(ctx, spec, name, body)
    if lsid is None:
        reply = await _execute(spec, ctx, body)
    else:
        session = state.session(lsid)
        ctx.session = session
        await _checkout(session, ctx)
        try:
            session.running = asyncio.current_task()
            while True:
                try:
                    reply = await _with_session(state, spec, name, ctx, session, body, reply_ctx)
                    break
                except prepare.BehindPrepare as blocked:
                    # Release the session so its prepared transaction can be committed or
                    # aborted, wait for that, then begin again (prepare.py).
                    session.checkout.release()
                    try:
                        await prepare.wait_behind_prepare(ctx, blocked.txn)
                    finally:
                        await session.checkout.acquire()
        except asyncio.CancelledError:
            if not session.interrupted:
                raise
            # killSessions interrupted this operation (kill_sessions_local.cpp): an error
            # reply, and the connection stays open.
            session.interrupted = False
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            raise CommandError(11601, "operation was interrupted") from None
        finally:
            session.running = None
            session.checkout.release()
            session.last_use = time.monotonic()

    if replica is not None:
        await replica.after_command(ctx, spec, name, body, reply)  # the write concern wait
    wce = None
    if action is not None and action.write_concern_error is not None and spec.write:
        wce = dict(action.write_concern_error)
        reply["writeConcernError"] = wce
    elif "writeConcernError" in reply:
        wce = reply["writeConcernError"]
    if wce is not None:
        labels = (
            action.error_labels
            if action is not None and action.error_labels is not None
            else _labels(name, body, None, wce)
        )
        if labels:
            reply["errorLabels"] = labels
    if ctx.wrote:
        reply_ctx["operation_time"] = ctx.last_write_seq
    if ctx.operation_time is not None:
        reply_ctx["operation_time"] = ctx.operation_time
    return reply


def _max_time_ms(value: Any) -> int:
    """maxTimeMS as mongod parses it: a number, whole, in [0, 2^31-1]; NaN is not whole
    and infinity is out of range [srv:db/query/max_time_ms_parser.cpp parseMaxTimeMS]."""
    if isinstance(value, Decimal128):
        value = float(value.to_decimal())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(2, "maxTimeMS must be a number")
    if isinstance(value, float) and math.isnan(value):
        as_long = 0  # safeNumberLong
    elif isinstance(value, float) and math.isinf(value):
        as_long = 2**63 - 1 if value > 0 else -(2**63)
    else:
        as_long = int(value)
    if not 0 <= as_long <= 2**31 - 1:
        raise CommandError(2, f"{as_long} value for maxTimeMS is out of range [0, 2147483647]")
    if isinstance(value, float) and not value.is_integer():
        raise CommandError(2, "maxTimeMS has non-integral value")
    return as_long


async def _checkout(session: ServerSession, ctx: OpContext) -> None:
    """One operation per session at a time: later ones wait (reference §3.2)."""
    if ctx.deadline is None:
        await session.checkout.acquire()
        return
    try:
        # A kill that comes as the session frees must not leave it checked out.
        await waits.within(
            session.checkout.acquire(),
            ctx.deadline - time.monotonic(),
            undo=lambda _: session.checkout.release(),
        )
    except TimeoutError as exc:
        raise CommandError(50, "operation exceeded time limit") from exc


def _validate_session_fields(
    spec: commands.CommandSpec,
    name: str,
    body: dict[str, Any],
    lsid: Any,
    txn_number: Any,
    autocommit: Any,
    start: Any,
) -> None:
    if lsid is not None and (not isinstance(lsid, dict) or "id" not in lsid):
        raise CommandError(40414, "BSON field 'OperationSessionInfo.lsid.id' is missing")
    if lsid is not None:
        # The session id is a UUID (binData), and uid a SHA-256 (binData)
        # [srv:db/session/logical_session_id.idl LogicalSessionFromClient].
        for key in ("id", "uid"):
            if key in lsid and not isinstance(lsid[key], bytes):
                raise CommandError(
                    14,
                    f"BSON field 'OperationSessionInfo.lsid.{key}' is the wrong type "
                    f"'{engine.type_name(lsid[key])}', expected type 'binData'",
                )
    if txn_number is not None:
        if lsid is None:
            # InvalidOptions (issue 17, D14) [srv:db/logical_session_id_helpers.cpp
            # initializeOperationSessionInfo].
            raise CommandError(72, "Transaction number requires a session ID to also be specified")
        if not isinstance(txn_number, int) or isinstance(txn_number, bool):
            raise CommandError(14, "BSON field 'txnNumber' is the wrong type, expected long")
        if txn_number < 0:
            raise CommandError(72, "Transaction number cannot be negative")
    if autocommit is not None:
        if txn_number is None:
            raise CommandError(
                72, "'autocommit' field requires a transaction number to also be specified"
            )
        if autocommit is not False:
            raise CommandError(72, "Specifying autocommit=true is not allowed.")
    if start is not None:
        if autocommit is None:
            raise CommandError(
                72, "'startTransaction' field requires 'autocommit' field to also be specified"
            )
        if start is not True:
            raise CommandError(72, "Specifying startTransaction=false is not allowed.")
        if name in ("killCursors", "commitTransaction", "abortTransaction", "prepareTransaction"):
            raise CommandError(263, f"Cannot start a transaction with a {name} command")
    if txn_number is not None and autocommit is None and not spec.retryable_write:
        raise CommandError(50768, f"Command '{name}' is not a retryable write command")
    if name in TXN_END and autocommit is None:
        # Reference §11.1: exact 7.0/8.0 code unconfirmed; the long-standing one is 251 / 50768.
        if txn_number is None:
            raise CommandError(50768, f"{name} must be run within a transaction")


def _validate_in_transaction(
    spec: commands.CommandSpec, name: str, body: dict[str, Any], start: bool
) -> None:
    db = body.get("$db")
    if name == "count":
        raise CommandError(
            263,
            "Cannot run 'count' in a multi-document transaction. Please see "
            "http://dochub.mongodb.org/core/transaction-count for a recommended alternative.",
        )
    if not spec.in_transaction:
        # Only the allowlisted commands run in a transaction, whether first or not: hello,
        # ping, buildInfo too are refused (jstests commands_not_allowed_in_txn.js; srv:
        # db/commands.cpp CommandHelpers::canUseTransactions) (issue 17, D15).
        raise CommandError(263, f"Cannot run '{name}' in a multi-document transaction.")
    if db in ("local", "config") and name not in TXN_END:
        raise CommandError(263, f"Cannot run command against the '{db}' database in a transaction.")
    if body.get(name) == "system.profile":
        # [srv:db/commands.cpp CommandHelpers::canUseTransactions] (issue 17, D9)
        raise CommandError(
            263,
            f"Cannot run command against the '{db}.system.profile' collection in a transaction.",
        )
    # prepareTransaction takes a write concern as commit and abort do (the coordinator
    # sends it with w: majority) [srv:db/s/txn_two_phase_commit_cmds.cpp supportsWriteConcern].
    ends = name in TXN_END or name == "prepareTransaction"
    if "writeConcern" in body and not ends:
        raise CommandError(72, "writeConcern is not allowed within a multi-statement transaction")
    if ends and "writeConcern" in body:
        validate_write_concern(body["writeConcern"])
    rc = body.get("readConcern")
    if rc is not None and not start:
        raise CommandError(72, "Only the first command in a transaction may specify a readConcern")
    if rc is not None:
        if not isinstance(rc, dict):
            raise CommandError(14, "readConcern must be an object")
        level = rc.get("level", "local")
        if level not in _READ_CONCERN_LEVELS:
            # The level is parsed before any transaction rule: FailedToParse (issue 17, D14)
            # [srv:db/repl/read_concern_args.cpp, readConcernLevels::fromString].
            raise CommandError(
                9,
                "readConcern.level must be either 'local', 'majority', 'linearizable', "
                "'available', or 'snapshot'",
            )
        if level not in ("local", "majority", "snapshot"):
            raise CommandError(
                72,
                "The readConcern level must be either 'local' (default), 'majority' or "
                "'snapshot' in order to run in a transaction",
            )
        if "afterOpTime" in rc:
            raise CommandError(72, "afterOpTime is not allowed in a transaction")


async def _with_session(
    state: ServerState,
    spec: commands.CommandSpec,
    name: str,
    ctx: OpContext,
    session: ServerSession,
    body: dict[str, Any],
    reply_ctx: dict[str, Any],
) -> dict[str, Any]:
    txn_number = body.get("txnNumber")
    if txn_number is None:
        return await _execute(spec, ctx, body)
    if state.replset is None:
        raise CommandError(
            20, "Transaction numbers are only allowed on a replica set member or mongos"
        )
    txn_number = int(txn_number)
    if "autocommit" not in body:
        return await _retryable_write(state, spec, name, ctx, session, body, txn_number)
    _check_api_params(name, session, body, txn_number)
    txn = _begin_or_continue(state, name, session, body, txn_number)
    ctx.txn = txn
    if txn.state is ServerTxnState.COMMITTED:
        # Commit retried after success: ok again (reference §3.2), once parsed.
        from .commands.sessions import check_commit_fields

        check_commit_fields(body)
        reply: dict[str, Any] = {"ok": 1.0}
        add_write_concern_error(state, body, reply)
        ctx.operation_time = txn.commit_seq
        return reply
    first = txn.snapshot is None
    if first:
        _open_snapshot(state, txn, body)
    txn.active_since = time.monotonic()
    # [srv:db/transaction/transaction_participant.cpp: each statement's stash updates the
    # single transaction stats' lastClientInfo, which reportStashedState reports]
    txn.last_client = ctx.connection
    try:
        _check_create_read_concern(name, txn)
        if spec.reads and body.get(name) == "system.views":
            # [srv:db/db_raii.cpp getLockModeForQuery] (issue 17, D9)
            raise CommandError(51071, "Cannot query system.views within a transaction")
        reply = await _execute(spec, ctx, body)
    except CommandError as exc:
        if txn.open:
            state.abort(txn, f"{name} failed: {exc.message}")
        raise
    except BaseException:
        if txn.open:
            state.abort(txn, f"{name} was interrupted")
        raise
    finally:
        if txn.active_since is not None:
            txn.time_active += time.monotonic() - txn.active_since
            txn.active_since = None
    if reply.get("writeErrors") and txn.open:
        # A write error inside a transaction aborts it (write_ops_exec.cpp, reference §3.6).
        state.abort(txn, f"{name} had a write error")
    return reply


_API_PARAMS = ("apiVersion", "apiStrict", "apiDeprecationErrors")


def _api_params(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in _API_PARAMS if k in body}


def _check_api_params(
    name: str, session: ServerSession, body: dict[str, Any], txn_number: int
) -> None:
    """Every statement of a transaction, commit and abort included, carries the API
    parameters its first statement gave, or none if it gave none: APIMismatchError,
    before the session's transaction is touched (issue 17, D8)
    [srv:db/service_entry_point_common.cpp CheckoutSessionAndInvokeCommand::_checkOutSession;
    jstests api_params_transaction.js]. The 4.7-era rule that refused any API parameter
    on a continuing statement (4937700) is gone since 5.0: drivers with a declared server
    API send it on every command (versioned-api spec, transaction handling)."""
    txn = session.txn
    if (
        body.get("startTransaction")
        or txn is None
        or not txn.open
        or txn.txn_number != txn_number
        or _api_params(body) == txn.api_params
    ):
        return
    raise CommandError(
        347,
        f"API parameter mismatch: {name} used params {_bson_text(_api_params(body))}, the "
        f"transaction's first command used {_bson_text(txn.api_params)}",
    )


def _bson_text(doc: dict[str, Any]) -> str:
    """A small document as the server's BSONObj::toString writes it."""
    if not doc:
        return "{}"
    parts = [
        f'{k}: "{v}"' if isinstance(v, str) else f"{k}: {str(v).lower()}" for k, v in doc.items()
    ]
    return "{ " + ", ".join(parts) + " }"


def _check_create_read_concern(name: str, txn: Transaction) -> None:
    """create and createIndexes run only in a transaction whose read concern is local (or
    given no level); checked once the transaction is unstashed, before the command itself
    (so before its own refusals, such as system collections)
    [srv:db/service_entry_point_common.cpp _checkOutSession, isCreate; jstests
    commands_in_txns_read_concern.js]."""
    level = txn.read_concern.get("level")
    if name in ("create", "createIndexes") and level not in (None, "local"):
        raise CommandError(
            72,
            f"Command {name} does not support this transaction's "
            f'{{ readConcern: {{ level: "{level}" }} }} :: caused by :: read concern not supported',
        )


def _open_snapshot(state: ServerState, txn: Transaction, body: dict[str, Any]) -> None:
    """The snapshot is taken by the transaction's first statement (reference §3.3)."""
    rc = body.get("readConcern") or {}
    after = rc.get("afterClusterTime") if isinstance(rc, dict) else None
    if isinstance(after, Timestamp) and ts_to_int(after) > state.clock.now():
        state.abort(txn, "afterClusterTime in the future")
        raise CommandError(
            72,
            "readConcern afterClusterTime value must not be greater than the current "
            "clusterTime. Requested clusterTime: "
            f"{after}; current clusterTime: {int_to_ts(state.clock.now())}",
        )
    at = rc.get("atClusterTime") if isinstance(rc, dict) else None
    if isinstance(at, Timestamp) and rc.get("level") == "snapshot":
        # A snapshot transaction may read at a given earlier time (the catalog too: 8.0's
        # concurrent_drops_and_creates.js writes at a time before a drop and gets 112).
        if ts_to_int(at) > state.clock.now():
            state.abort(txn, "atClusterTime in the future")
            raise CommandError(
                72,
                "readConcern atClusterTime value must not be greater than the current clusterTime",
            )
        txn.snapshot = ts_to_int(at)
        return
    # Below any oplog hole: the all durable point (oplog_holes.py) [srv:db/storage/
    # wiredtiger/wiredtiger_recovery_unit.cpp, ReadSource kNoOverlap].
    txn.snapshot = state.oplog_holes.all_durable(state.clock)


def _begin_or_continue(
    state: ServerState,
    name: str,
    session: ServerSession,
    body: dict[str, Any],
    txn_number: int,
) -> Transaction:
    """beginOrContinue for a replica set (transaction_participant.cpp, reference §3.2)."""
    active = session.active_txn_number
    current = session.txn if session.txn is not None and session.txn.txn_number == active else None
    if txn_number < active:
        raise CommandError(
            225,
            f"Cannot start transaction {txn_number} on session {_sid(session)} because a "
            f"newer transaction {active} has already started.",
        )
    if body.get("startTransaction"):
        if txn_number == active:
            raise CommandError(
                117,
                "Only servers in a sharded cluster can start a new transaction at the active "
                "transaction number",
            )
        if current is not None and current.prepared:
            raise prepare.BehindPrepare(current)
        if current is not None and current.open:
            state.abort(current, "a newer transaction started on the session")
        rc = body.get("readConcern") or {}
        txn = Transaction(
            lsid=session.lsid,
            txn_number=txn_number,
            read_concern={k: v for k, v in rc.items() if k == "level"},
            api_params=_api_params(body),
            lifetime_seconds=float(state.parameters["transactionLifetimeLimitSeconds"]),
        )
        session.txn = txn
        session.active_txn_number = txn_number
        session.retryable_is_txn = True
        state.stats.total_started += 1
        return txn
    if txn_number != active or current is None:
        raise CommandError(
            251,
            f"Given transaction number {txn_number} does not match any in-progress "
            f"transactions. The active transaction number is {active}",
        )
    if current.open and current.expires_at <= time.monotonic():
        state.abort(current, "exceeded transactionLifetimeLimitSeconds")
    if current.state is ServerTxnState.ABORTED:
        raise CommandError(251, f"Transaction with {{ txnNumber: {txn_number} }} has been aborted.")
    if current.state is ServerTxnState.COMMITTED and name != "commitTransaction":
        raise CommandError(
            256, f"Transaction with {{ txnNumber: {txn_number} }} has been committed."
        )
    prepare.check_statement(current, name)
    return current


def _sid(session: ServerSession) -> str:
    sid = session.lsid.get("id")
    try:
        import uuid

        return str(uuid.UUID(bytes=bytes(sid)))
    except (TypeError, ValueError):
        return repr(sid)


async def _retryable_write(
    state: ServerState,
    spec: commands.CommandSpec,
    name: str,
    ctx: OpContext,
    session: ServerSession,
    body: dict[str, Any],
    txn_number: int,
) -> dict[str, Any]:
    """Retryable writes: a repeated txnNumber returns the recorded reply (reference §3.11)."""
    active = session.active_txn_number
    if txn_number < active:
        raise CommandError(
            225,
            f"Retryable write with txnNumber {txn_number} is prohibited on session "
            f"{_sid(session)} because a newer retryable write with txnNumber {active} has "
            "already started on this session.",
        )
    if txn_number == active:
        if session.retryable_is_txn:
            raise CommandError(
                217, "Cannot retry a retryable write that has been converted into a transaction"
            )
        cached = session.retryable_replies.get(txn_number)
        if cached is not None:
            state.stats.retried_commands += 1
            state.stats.retried_statements += 1
            return dict(cached)
    else:
        current = session.txn
        if current is not None and current.prepared:
            raise prepare.BehindPrepare(current)
        if current is not None and current.open:
            state.abort(current, "a retryable write with a newer txnNumber started")
        session.active_txn_number = txn_number
        session.retryable_is_txn = False
        session.retryable_replies = {}
    hook = None
    if "onPrimaryTransactionalWrite" in state.fail_points:
        from .failpoints import on_primary_transactional_write

        hook = on_primary_transactional_write(state)
    if hook is not None and hook.fail_code is not None:
        # failBeforeCommitExceptionCode: the write fails before it commits, nothing applies
        # and nothing is recorded, so a retry runs it.
        if hook.close:
            raise CloseConnection()
        return _failed_write(name, hook.fail_code, f"{_sid(session)}:{txn_number}")
    reply = await _execute(spec, ctx, body)
    if reply.get("ok"):
        session.retryable_replies[txn_number] = dict(reply)
    if hook is not None and hook.close:
        raise CloseConnection()  # applied and recorded; the client never hears of it
    return reply


def _failed_write(name: str, code: int, txn: str) -> dict[str, Any]:
    """The reply of a retryable write the onPrimaryTransactionalWrite fail point failed: a
    statement's error is a write error of insert, update and delete, a command error of the
    others [srv:db/ops/write_ops_exec.cpp handleError]."""
    message = f"Failing write for {txn} due to failpoint. The write must not be reflected."
    if name not in ("insert", "update", "delete"):
        raise CommandError(code, message)
    reply: dict[str, Any] = {"n": 0}
    if name == "update":
        reply["nModified"] = 0
    reply["writeErrors"] = [{"index": 0, "code": code, "errmsg": message}]
    reply["ok"] = 1.0
    return reply


async def _execute(
    spec: commands.CommandSpec, ctx: OpContext, body: dict[str, Any]
) -> dict[str, Any]:
    target = body.get(spec.name)
    if target == "transactions" and ctx.db == "config":
        # config.transactions: the session records (session_table.py).
        from . import session_table

        answer = await session_table.before_command(ctx, spec.name, body)
        if answer is not None:
            return answer
    if type(target) is str and ctx.state.ddl_pending:
        # Only DDL (ddl.py, which loads locks.py) makes statements wait: imported here.
        from . import locks

        await locks.before_statement(ctx, ctx.db, target)
    if ctx.state.prepared:
        # Only while a transaction is prepared may a read meet a prepare conflict.
        await prepare.before_statement(ctx, spec.name, body)
    # maxTimeMS reaches the engine's interrupt points (engine/interrupt.py) for this command;
    # not getMore's, which is the await time of a change stream or tailable cursor (manual:
    # getMore, maxTimeMS) and not a limit on filtering the events found meanwhile.
    token = None
    if ctx.deadline is not None and spec.name != "getMore":
        token = engine.interrupt.enter(engine.Interrupt(ctx.deadline))
    try:
        reply = await spec.handler(ctx, body)
    finally:
        if token is not None:
            engine.interrupt.leave(token)
    if spec.write and ctx.txn is None and "writeConcernError" not in reply:
        add_write_concern_error(ctx.state, body, reply)
    return reply

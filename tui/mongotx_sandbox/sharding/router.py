"""The router's command path (a mongos): the handshake, the session's transaction, then
the command routed by kind — targeted or broadcast reads and writes, the catalog's
commands, or the database's primary shard for everything else
[srv:s/service_entry_point_router_role.cpp; s/commands/strategy.cpp]."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bson.int64 import Int64
from bson.timestamp import Timestamp

from .. import commands as shard_commands
from ..clock import int_to_ts, ts_to_int
from ..connections import Connection

# mongod's own rules, which mongos applies alike: error labels (error_labels.cpp) and what
# a transaction's statement may carry (transaction_validation.cpp).
from ..dispatch import RESUMABLE_CHANGE_STREAM_CODES
from ..dispatch import _labels as server_labels
from ..dispatch import _validate_in_transaction as validate_in_transaction
from ..dispatch import _validate_session_fields as validate_session_fields
from ..errors import CloseConnection, CommandError
from ..failpoints import FailAction, configure, evaluate_fail_command
from ..state import LOGICAL_SESSION_TIMEOUT_MINUTES, ServerState
from ..wire import MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE, MAX_WRITE_BATCH_SIZE, Request
from . import commit, config_cmds, reads, writes
from .core import Call, RouterCore, raise_for
from .txn_router import RouterTxn

MAX_WIRE_VERSION = 25  # 8.0, as the shards
_HELLO = frozenset({"hello", "isMaster", "ismaster"})
# The client's session and transaction fields: the router sends its own to each shard.
_SESSION_FIELDS = frozenset(
    {
        "$db",
        "lsid",
        "txnNumber",
        "autocommit",
        "startTransaction",
        "$clusterTime",
        "$readPreference",
        "recoveryToken",
    }
)
_WRITES = frozenset(
    {
        "insert",
        "update",
        "delete",
        "findAndModify",
        "findandmodify",
        "commitTransaction",
        "abortTransaction",
        "create",
        "drop",
        "createIndexes",
        "dropIndexes",
        "dropDatabase",
    }
)
_Route = Callable[[Call], Awaitable[dict[str, Any]]]


def hello(state: ServerState, conn: Connection, body: dict[str, Any], legacy: bool) -> dict:
    """A mongos answers hello with msg "isdbgrid" and no replica set fields; drivers take
    that as a Sharded topology [server discovery and monitoring spec: "mongos";
    srv:s/commands/cluster_hello_cmd.cpp]."""
    conn.remember_client(body.get("client"))
    reply: dict[str, Any] = {}
    if body.get("helloOk"):
        reply["helloOk"] = True
    reply["ismaster" if legacy else "isWritablePrimary"] = True
    reply.update(
        {
            "msg": "isdbgrid",
            "maxBsonObjectSize": MAX_BSON_OBJECT_SIZE,
            "maxMessageSizeBytes": MAX_MESSAGE_SIZE,
            "maxWriteBatchSize": MAX_WRITE_BATCH_SIZE,
            "localTime": datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
            "logicalSessionTimeoutMinutes": LOGICAL_SESSION_TIMEOUT_MINUTES,
            "connectionId": conn.id,
            "minWireVersion": 0,
            "maxWireVersion": MAX_WIRE_VERSION,
            "readOnly": False,
            "ok": 1.0,
        }
    )
    return reply


class Router:
    """One mongos: `handle` is a SandboxServer handler."""

    def __init__(self, core: RouterCore) -> None:
        self.core = core
        self.routes: dict[str, _Route] = {
            "find": reads.find,
            "getMore": reads.get_more,
            "killCursors": reads.kill_cursors,
            "aggregate": reads.aggregate,
            "count": reads.count,
            "distinct": reads.distinct,
            "insert": writes.insert,
            "update": lambda c: writes.update_or_delete(c, "update", "updates"),
            "delete": lambda c: writes.update_or_delete(c, "delete", "deletes"),
            "findAndModify": writes.find_and_modify,
            "findandmodify": writes.find_and_modify,
            "enableSharding": config_cmds.enable_sharding,
            "enablesharding": config_cmds.enable_sharding,
            "shardCollection": config_cmds.shard_collection,
            "shardcollection": config_cmds.shard_collection,
            "split": config_cmds.split,
            "moveChunk": config_cmds.move_chunk,
            "movechunk": config_cmds.move_chunk,
            "moveRange": config_cmds.move_range,
            "listShards": config_cmds.list_shards,
            "listshards": config_cmds.list_shards,
            "balancerStatus": config_cmds.balancer_status,
            "isdbgrid": _isdbgrid,
            "drop": _drop,
            "dropDatabase": _drop_database,
            "createIndexes": _everywhere,
            "dropIndexes": _everywhere,
            "listDatabases": _list_databases,
            "endSessions": _end_sessions,
            "bulkWrite": _bulk_write,
        }

    async def handle(
        self, state: ServerState, conn: Connection, req: Request
    ) -> dict[str, Any] | None:
        body = req.body
        name = next(iter(body), "")
        if name in _HELLO and "autocommit" not in body and "txnNumber" not in body:
            reply = hello(state, conn, body, legacy=name != "hello")
            return self._stamp(reply)
        self.core.learn_time(body)
        action = None
        try:
            if name == "configureFailPoint":
                if body.get("configureFailPoint") == commit.HANG_BEFORE_DECISION:
                    return self._stamp(await self._on_every_shard(body))
                return self._stamp(_configure_fail_point(state, body))
            try:
                action = await _fail_command(state, conn, name, body)
            except CloseConnection:
                await self._abort_failed_statement(name, body)
                raise
            reply = await self._run(name, body)
        except CommandError as exc:
            reply = exc.to_reply()
            labels = exc.labels
            if labels is None:
                labels = server_labels(name, body, exc.code, None)
                if name == "getMore" and self._change_stream(body):
                    if exc.code in RESUMABLE_CHANGE_STREAM_CODES:
                        # [srv:db/error_labels.cpp: a change stream's getMore error that
                        # the driver can resume from]
                        labels = ["ResumableChangeStreamError"]
            if labels:
                reply["errorLabels"] = labels
        if action is not None and action.write_concern_error is not None and reply.get("ok"):
            if name in _WRITES:
                wce = dict(action.write_concern_error)
                reply["writeConcernError"] = wce
                labels = action.error_labels
                if labels is None:
                    labels = server_labels(name, body, None, wce)
                if labels:
                    reply["errorLabels"] = labels
        return self._stamp(reply)

    def _change_stream(self, body: dict[str, Any]) -> bool:
        cid = body.get("getMore")
        cursor = self.core.cursors.get(int(cid)) if isinstance(cid, int) else None
        return cursor is not None and bool(cursor.extra.get("change_stream"))

    def _stamp(self, reply: dict[str, Any]) -> dict[str, Any]:
        if self.core.cluster_time:
            reply["$clusterTime"] = self.core.gossip()
            reply["operationTime"] = int_to_ts(self.core.cluster_time)
        return reply

    async def _on_every_shard(self, body: dict[str, Any]) -> dict[str, Any]:
        """hangBeforeWritingDecision is a shard's fail point (its coordinator's). A mongos
        does not know it; the sandbox's router passes it to every shard, so that a lesson
        reaching only the router can hold whichever shard coordinates."""
        call = Call(self.core, {k: v for k, v in body.items() if k not in _SESSION_FIELDS}, "admin")
        for reply in await call.send_all(list(self.core.shards), call.body):
            raise_for(reply)
        return {"ok": 1.0}

    async def _abort_failed_statement(self, name: str, body: dict[str, Any]) -> None:
        """A transaction's statement whose client connection the router's failCommand
        closed: the statement is interrupted and the whole transaction aborted, as for a
        shard's error [transaction_router.cpp implicitlyAbortTransaction]. An error code
        from failCommand leaves the transaction open (the transactions spec tests
        mongos-pin-auto "remain pinned after non-transient Interrupted error" and
        backpressure-retryable-writes commit after it)."""
        lsid = body.get("lsid")
        if body.get("autocommit") is not False or not isinstance(lsid, dict):
            return
        if name in ("commitTransaction", "abortTransaction"):
            return
        key = bytes(lsid.get("id", b""))
        number = int(body.get("txnNumber") or 0)
        txn = self.core.txns.get(key)
        if body.get("startTransaction"):
            txn = self.core.txns[key] = RouterTxn(number, lsid, state="aborted")
        if txn is not None and txn.txn_number == number:
            await commit.abort_everywhere(Call(self.core, {}, "admin", lsid=lsid, txn=txn), txn)

    async def _run(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        spec = shard_commands.lookup(name)
        if spec is not None:
            # The session fields, checked as mongod checks them [srv:db/
            # logical_session_id_helpers.cpp initializeOperationSessionInfo].
            validate_session_fields(
                spec,
                name,
                body,
                body.get("lsid"),
                body.get("txnNumber"),
                body.get("autocommit"),
                body.get("startTransaction"),
            )
        db = body.get("$db", "admin")
        call = Call(
            self.core,
            {k: v for k, v in body.items() if k not in _SESSION_FIELDS},
            db if isinstance(db, str) else "admin",
            lsid=body.get("lsid") if isinstance(body.get("lsid"), dict) else None,
            txn_number=body.get("txnNumber"),
        )
        if body.get("autocommit") is False and call.lsid is not None:
            return await self._in_transaction(name, body, call)
        if name in ("commitTransaction", "abortTransaction"):
            raise CommandError(
                50768, "txnNumber may only be provided for multi-document transactions"
            )
        return await self._route(name, call)

    async def _route(self, name: str, call: Call) -> dict[str, Any]:
        route = self.routes.get(name)
        if route is not None:
            return await route(call)
        shard = call.primary()
        return reads.wrap_reply(call, shard, await call.send(shard, call.body))

    async def _in_transaction(self, name: str, body: dict[str, Any], call: Call) -> dict:
        assert call.lsid is not None
        spec = shard_commands.lookup(name)
        if spec is not None:
            # The router refuses what a transaction may not carry (a command not allowed in
            # one, a later statement's readConcern, a statement's writeConcern) before any
            # shard sees it, and the transaction stays as it was [srv:s/commands/strategy.cpp
            # and db/transaction_validation.cpp, shared with mongod's checks].
            validate_in_transaction(spec, name, body, bool(body.get("startTransaction")))
        key = bytes(call.lsid.get("id", b""))
        number = int(call.txn_number or 0)
        txn = self.core.txns.get(key)
        if txn is not None and number < txn.txn_number:
            # [transaction_router.cpp beginOrContinueTxn: TransactionTooOld]
            raise CommandError(
                225,
                f"txnNumber {number} is less than last txnNumber {txn.txn_number} seen in "
                f"session {_session_id(call.lsid)}",
            )
        if body.get("startTransaction"):
            if txn is not None and txn.txn_number == number:
                # [transaction_router.cpp beginOrContinueTxn: a start at the active number]
                raise CommandError(
                    117,
                    f"txnNumber {number} for session {_session_id(call.lsid)} already started",
                )
            call.body.pop("readConcern", None)
            txn = RouterTxn(number, call.lsid, body.get("readConcern"))
            if (txn.read_concern or {}).get("level") == "snapshot":
                await self._know_time(call)
                at = (txn.read_concern or {}).get("atClusterTime")
                # One snapshot for every participant: the router's cluster time when the
                # transaction starts [transaction_router.cpp _setAtClusterTime].
                txn.at_cluster_time = (
                    at if isinstance(at, Timestamp) else int_to_ts(self.core.cluster_time)
                )
                txn.read_concern = {"level": "snapshot"}
            self.core.txns[key] = txn
        elif txn is None or txn.txn_number != number:
            if name == "commitTransaction" and "recoveryToken" in body:
                return await commit.recover(call, body["recoveryToken"])
            raise CommandError(
                251,
                f"Transaction with {{ txnNumber: {number} }} has been aborted.",
                labels=["TransientTransactionError"],
            )
        call.txn = txn
        if name == "commitTransaction":
            reply = await commit.commit(call, txn)
        elif name == "abortTransaction":
            reply = await commit.abort(call, txn)
        elif txn.state == "committed":
            raise CommandError(
                256, f"Transaction with {{ txnNumber: {number} }} has been committed."
            )
        elif txn.state != "active":
            raise CommandError(
                251,
                f"Transaction with {{ txnNumber: {number} }} has been aborted.",
                labels=["TransientTransactionError"],
            )
        else:
            reply = await self._statement(name, call, txn)
        token = txn.recovery_token()
        if token:
            reply["recoveryToken"] = token
        return reply

    async def _statement(self, name: str, call: Call, txn: RouterTxn) -> dict[str, Any]:
        """A statement of the transaction; its error aborts the transaction on every
        participant [transaction_router.cpp implicitlyAbortTransaction]."""
        try:
            reply = await self._route(name, call)
            raise_for(reply)
            if reply.get("writeErrors"):
                await commit.abort_everywhere(call, txn)
            return reply
        except CommandError as exc:
            exc.labels = commit.statement_labels(exc)
            await commit.abort_everywhere(call, txn)
            raise

    async def _know_time(self, call: Call) -> None:
        """Learn the cluster time from a shard when the router has seen none yet."""
        if not self.core.cluster_time:
            probe = Call(self.core, {}, "admin")
            await probe.send(next(iter(self.core.shards)), {"ping": 1})


def _configure_fail_point(state: ServerState, body: dict[str, Any]) -> dict[str, Any]:
    """A mongos has fail points of its own: failCommand set on the router fails the
    router's commands, before any shard sees them [srv:s/commands/
    service_entry_point_router_role.cpp: CommandHelpers::evaluateFailCommandFailPoint]."""
    if not state.parameters.get("enableTestCommands", True):
        raise CommandError(59, "no such command: 'configureFailPoint'")
    configure(state, body["configureFailPoint"], body.get("mode"), body.get("data"))
    return {"ok": 1.0}


async def _fail_command(
    state: ServerState, conn: Connection, name: str, body: dict[str, Any]
) -> FailAction | None:
    """What the router's failCommand does to this command (as dispatch does on a shard)."""
    if not state.fail_points:
        return None
    action = evaluate_fail_command(state, conn, name, body)
    if action is None:
        return None
    if action.block_ms:
        await asyncio.sleep(action.block_ms / 1000)
    if action.close:
        raise CloseConnection()
    if action.error_code is not None:
        labels = action.error_labels
        if labels is None and not action.after_checkout:
            # The labels of any error of this command, but never ResumableChangeStreamError:
            # a getMore failed by failCommand has not checked out its cursor, so nothing
            # knows it as a change stream's [srv:db/error_labels.cpp ErrorLabelBuilder::
            # isResumableChangeStreamError reads CurOp's originatingCommand], as on a shard;
            # failGetMoreAfterCursorCheckout fails it after, and its error may resume.
            labels = server_labels(name, body, action.error_code, None)
        raise CommandError(
            action.error_code, "Failing command via 'failCommand' failpoint", labels=labels
        )
    return action


def _session_id(lsid: dict[str, Any]) -> str:
    raw = lsid.get("id")
    return str(uuid.UUID(bytes=bytes(raw))) if isinstance(raw, bytes) and len(raw) == 16 else "?"


async def _bulk_write(call: Call) -> dict[str, Any]:
    """bulkWrite (across namespaces) runs on the first shard, every database's primary by
    default; on sharded collections the sandbox's router does not split it."""
    for op in call.body.get("nsInfo") or []:
        ns = op.get("ns") if isinstance(op, dict) else None
        if isinstance(ns, str) and ns in call.catalog.collections:
            raise CommandError(
                20,
                f"bulkWrite on a sharded collection ({ns}) is not supported by the mongotx "
                "sandbox's router; use insert, update and delete",
            )
    shard = next(iter(call.catalog.shards))
    return reads.wrap_reply(call, shard, await call.send(shard, call.body))


async def _isdbgrid(call: Call) -> dict[str, Any]:
    return {"isdbgrid": 1, "hostname": "localhost", "ok": 1.0}


async def _everywhere(call: Call) -> dict[str, Any]:
    """A DDL command on a sharded collection runs on every shard; else on the primary."""
    coll = next(iter(call.body.values()), None)
    sharded = call.sharded(coll) if isinstance(coll, str) else None
    if sharded is None:
        return await call.send(call.primary(), call.body)
    replies = await call.send_all(list(call.catalog.shards), call.body)
    for reply in replies:
        raise_for(reply)
    return replies[0]


async def _drop(call: Call) -> dict[str, Any]:
    coll = call.body.get("drop")
    reply = await _everywhere(call)
    if isinstance(coll, str):
        call.catalog.drop(f"{call.db}.{coll}")
    return reply


async def _drop_database(call: Call) -> dict[str, Any]:
    replies = await call.send_all(list(call.catalog.shards), call.body)
    for reply in replies:
        raise_for(reply)
    for ns in [ns for ns in call.catalog.collections if ns.startswith(f"{call.db}.")]:
        call.catalog.drop(ns)
    call.catalog.databases.pop(call.db, None)
    return {"dropped": call.db, "ok": 1.0}


async def _list_databases(call: Call) -> dict[str, Any]:
    replies = await call.send_all(list(call.catalog.shards), call.body)
    sizes: dict[str, dict[str, Any]] = {}
    for reply in replies:
        raise_for(reply)
        for db in reply.get("databases", []):
            entry = sizes.setdefault(db["name"], {**db, "sizeOnDisk": Int64(0)})
            entry["sizeOnDisk"] = Int64(entry["sizeOnDisk"] + int(db.get("sizeOnDisk", 0)))
            entry["empty"] = bool(entry.get("empty", True)) and bool(db.get("empty", True))
    dbs = sorted(sizes.values(), key=lambda d: d["name"])
    if call.body.get("nameOnly"):
        dbs = [{"name": d["name"]} for d in dbs]
    total = sum(int(d.get("sizeOnDisk", 0)) for d in dbs)
    return {"databases": dbs, "totalSize": Int64(total), "ok": 1.0}


async def _end_sessions(call: Call) -> dict[str, Any]:
    await call.send_all(list(call.catalog.shards), call.body)
    return {"ok": 1.0}


__all__ = ["Router", "hello", "ts_to_int"]

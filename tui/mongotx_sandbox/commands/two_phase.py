"""prepareTransaction (issue 15, item 3) and coordinateCommitTransaction (known, refused)."""

from __future__ import annotations

from typing import Any

from .. import prepare
from ..access import OpContext
from ..clock import int_to_ts
from ..concerns import add_write_concern_error
from ..errors import CommandError
from .registry import command


@command("prepareTransaction", admin_only=True, in_transaction=True, write=True)
async def prepare_transaction(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The first phase of a cross-shard commit, run by a participant: the transaction keeps
    its writes and locks, answers `prepareTimestamp`, and from then on only commit (at a
    commitTimestamp) or abort ends it [srv:db/s/txn_two_phase_commit_cmds.cpp
    PrepareTransactionCmd]. Dispatch has already refused a txnNumber without autocommit
    (50768), autocommit without a txnNumber (72), it as a transaction's first statement
    (263), an ended or unknown txnNumber (251, 256, 225). A read-only transaction prepares too (jstests
    empty_prepare.js)."""
    txn = ctx.txn
    if txn is None:
        # Without a txnNumber there is no transaction participant [PrepareTransactionCmd:
        # CommandFailed].
        raise CommandError(125, "prepareTransaction must be run within a transaction")
    ts = await prepare.prepare(ctx, txn)
    ctx.operation_time = ts
    reply: dict[str, Any] = {"prepareTimestamp": int_to_ts(ts), "ok": 1.0}
    add_write_concern_error(ctx.state, body, reply)
    return reply


@command("coordinateCommitTransaction", admin_only=True, in_transaction=True)
async def coordinate_commit(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """The coordinator's command, which only a router sends to a shard. The sandbox is one
    replica set; knowing the name keeps mongod's order of checks: session fields first (a
    txnNumber without autocommit is 50768 [srv:db/transaction_validation.cpp
    validateSessionOptions]), then this refusal: IllegalOperation, as a listed command never
    answers CommandNotFound."""
    raise CommandError(
        20,
        "coordinateCommitTransaction is not supported by the mongotx sandbox: it is one "
        "replica set, without a sharded cluster's transaction coordinator",
    )

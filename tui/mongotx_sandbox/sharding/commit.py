"""Ending a sharded transaction at the router: a single-participant commit goes straight to
its shard; with more participants the coordinator (on the first participant) runs the
two-phase commit; abort goes to every participant; a statement's error aborts the whole
transaction; `commitTransaction` with a `recoveryToken` recovers a decision
[srv:s/transaction_router.cpp TransactionRouter::Router::commitTransaction (_commitSingleShard
Transaction, _commitMultiShardTransaction), abortTransaction, implicitlyAbortTransaction,
_commitWithRecoveryToken; manual: "Production Considerations (Sharded Clusters)"]."""

from __future__ import annotations

import asyncio
from typing import Any

from ..coordinator import Decision, TransactionCoordinator
from ..errors import RETRIABLE_CODES, TRANSIENT_CODES, CommandError
from .core import Call, RouterCore
from .txn_router import RouterTxn

# The coordinator's fail point (the name mongod gives it): the decision is made but not
# written, so the participants stay prepared [srv:db/s/transaction_coordinator.cpp
# hangBeforeWritingDecision]. Set on the coordinator shard with configureFailPoint.
HANG_BEFORE_DECISION = "hangBeforeWritingDecision"


def _key(txn: RouterTxn) -> tuple[bytes, int]:
    return bytes(txn.lsid["id"]), txn.txn_number


class _ShardParticipant:
    """A participant as the coordinator reaches it: over the wire, from the coordinator
    shard (which, in the sandbox, runs inside the router's process)."""

    def __init__(self, core: RouterCore, name: str, coordinator: str) -> None:
        self.core = core
        self.name = name
        self.coordinator = coordinator

    async def command(self, body: dict[str, Any]) -> dict[str, Any]:
        if "prepareTransaction" not in body:
            await self._hang_while_fail_point()
        out = {**body, "$db": "admin", "$clusterTime": self.core.gossip()}
        reply = await self.core.shards[self.name].command(out)
        self.core.learn_time(reply)
        return reply

    async def _hang_while_fail_point(self) -> None:
        """Hold the decision back while the coordinator shard's fail point is on."""
        fail_points = self.core.shard_fail_points.get(self.coordinator, {})
        while HANG_BEFORE_DECISION in fail_points:
            await asyncio.sleep(0.01)


async def commit(call: Call, txn: RouterTxn) -> dict[str, Any]:
    if txn.state == "aborted":
        raise _no_such_transaction(txn)
    if txn.state in ("committing", "committed") and txn.decision is not None:
        return dict((await asyncio.shield(txn.decision)).reply())
    if not txn.participants:
        txn.state = "committed"
        return {"ok": 1.0}
    txn.state = "committing"
    loop = asyncio.get_running_loop()
    if len(txn.participants) == 1:
        txn.decision = loop.create_task(_single_shard(call, txn))
    else:
        txn.decision = loop.create_task(_two_phase(call.core, txn))
    call.core.coordinations.setdefault(txn.coordinator or "", {})[_key(txn)] = txn.decision
    decision: Decision = await asyncio.shield(txn.decision)
    txn.state = "committed" if decision.commit else "aborted"
    return dict(decision.reply())


async def _single_shard(call: Call, txn: RouterTxn) -> Decision:
    """One participant: commitTransaction to it, with the client's write concern."""
    body: dict[str, Any] = {"commitTransaction": 1}
    if "writeConcern" in call.body:
        body["writeConcern"] = call.body["writeConcern"]
    reply = await call.send(txn.participants[0], body, "admin")
    decision = Decision(commit=bool(reply.get("ok")))
    decision.reply = lambda: reply  # type: ignore[method-assign]  # the shard's own answer
    return decision


async def _two_phase(core: RouterCore, txn: RouterTxn) -> Decision:
    coordinator = txn.participants[0]
    participants = [_ShardParticipant(core, p, coordinator) for p in txn.participants]
    return await TransactionCoordinator(txn.lsid, txn.txn_number, participants).run()


async def abort(call: Call, txn: RouterTxn) -> dict[str, Any]:
    if txn.state == "aborted":
        # Already aborted everywhere (a statement's error, or an earlier abort).
        raise _no_such_transaction(txn)
    if txn.state == "committed":
        # [srv:db/transaction/transaction_participant.cpp abortTransaction: the
        # participants answer TransactionCommitted]
        raise CommandError(
            256, f"Transaction with {{ txnNumber: {txn.txn_number} }} has been committed."
        )
    if not txn.participants:
        # [transaction_router.cpp abortTransaction: no participant has the transaction]
        raise CommandError(
            251, "no known command has been sent by this router for this transaction"
        )
    await abort_everywhere(call, txn)
    return {"ok": 1.0}


async def abort_everywhere(call: Call, txn: RouterTxn) -> None:
    """abortTransaction to every participant (an error from one changes nothing)."""
    txn.state = "aborted"
    body: dict[str, Any] = {"abortTransaction": 1}
    await asyncio.gather(
        *(call.send(p, body, "admin") for p in txn.participants), return_exceptions=True
    )


def statement_labels(error: CommandError) -> list[str]:
    """A statement's error in a transaction is transient when the shard said so or when it
    is one the whole transaction can be retried for (a write conflict, an unreachable
    shard) [srv:db/error_labels.cpp isTransientTransactionError]."""
    labels = list(error.labels or [])
    if "TransientTransactionError" not in labels and (
        error.code in TRANSIENT_CODES or error.code in RETRIABLE_CODES
    ):
        labels.append("TransientTransactionError")
    return labels


def _no_such_transaction(txn: RouterTxn) -> CommandError:
    return CommandError(
        251,
        f"Transaction with {{ txnNumber: {txn.txn_number} }} has been aborted.",
        labels=["TransientTransactionError"],
    )


async def recover(call: Call, token: Any) -> dict[str, Any]:
    """commitTransaction on a router that did not run the transaction: ask the recovery
    shard's coordinator for the decision, waiting for it if it is not made yet
    [transaction_router.cpp _commitWithRecoveryToken: coordinateCommitTransaction with no
    participants]."""
    shard = token.get("recoveryShardId") if isinstance(token, dict) else None
    if shard not in call.core.shards:
        raise CommandError(50940, "Cannot commit without participants")
    lsid_id = bytes(call.lsid["id"]) if call.lsid else b""
    task = call.core.coordinations.get(shard, {}).get((lsid_id, int(call.txn_number or 0)))
    if task is None:
        raise CommandError(
            251,
            f"Transaction with {{ txnNumber: {call.txn_number} }} was not found on the "
            f"coordinator shard {shard}",
            labels=["TransientTransactionError"],
        )
    decision: Decision = await asyncio.shield(task)
    return dict(decision.reply())

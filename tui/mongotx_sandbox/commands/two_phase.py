"""prepareTransaction and coordinateCommitTransaction: known, never run (issue 17, D15)."""

from __future__ import annotations

from typing import Any

from ..access import OpContext
from ..errors import CommandError
from .registry import command


@command("prepareTransaction", "coordinateCommitTransaction", admin_only=True, in_transaction=True)
async def two_phase(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """mongod's two-phase commit of sharded transactions. The sandbox is one replica set and
    never prepares; knowing the names keeps mongod's order of checks: session fields first
    (a txnNumber without autocommit is 50768 [srv:db/transaction_validation.cpp
    validateSessionOptions]), then this refusal: IllegalOperation, as a listed command
    never answers CommandNotFound."""
    name = next(iter(body))
    raise CommandError(
        20,
        f"{name} is not supported by the mongotx sandbox: it is one replica set, without a "
        "sharded cluster's two-phase commit, and never prepares a transaction",
    )

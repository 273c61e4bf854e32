"""A session's transaction as the router carries it: its number, read concern, the one
`atClusterTime` of a snapshot transaction, and its participants in the order they joined
(the first is the coordinator) [srv:s/transaction_router.cpp]."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bson.int64 import Int64
from bson.timestamp import Timestamp


@dataclass
class RouterTxn:
    txn_number: int
    lsid: dict[str, Any]
    read_concern: dict[str, Any] | None = None
    at_cluster_time: Timestamp | None = None
    participants: list[str] = field(default_factory=list)
    state: str = "active"  # active, committing, committed, aborted
    decision: Any = None  # the coordinator's task while committing across shards

    @property
    def coordinator(self) -> str | None:
        return self.participants[0] if self.participants else None

    def fields_for(self, shard: str) -> dict[str, Any]:
        """The transaction fields of a statement sent to `shard`."""
        out: dict[str, Any] = {"txnNumber": Int64(self.txn_number), "autocommit": False}
        if shard in self.participants:
            return out
        out["startTransaction"] = True
        rc = dict(self.read_concern or {})
        if self.at_cluster_time is not None:
            rc["atClusterTime"] = self.at_cluster_time
        if rc:
            out["readConcern"] = rc
        if not self.participants:
            out["coordinator"] = True
        self.participants.append(shard)
        return out

    def recovery_token(self) -> dict[str, Any]:
        """What the router answers in a transaction so that any router can later recover
        the commit decision: the shard that coordinates it [srv:s/transaction_router.cpp
        TransactionRouter::Router::appendRecoveryToken]."""
        return {"recoveryShardId": self.coordinator} if self.coordinator else {}

"""The router's state and one request's way to its shards: the session and transaction
fields a mongos attaches to each shard request, cluster time gossip, and the errors it makes
of a shard's failure."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from bson.binary import Binary
from bson.int64 import Int64
from bson.timestamp import Timestamp

from ..clock import int_to_ts, ts_to_int
from ..errors import CommandError
from .catalog import Catalog, ShardedCollection
from .shard_client import Shard
from .txn_router import RouterTxn

_ZERO_HASH = Binary(bytes(20), 0)
# Fields of a shard's reply the router answers with its own (cluster time gossip) or drops.
_SHARD_ONLY = ("$clusterTime", "operationTime", "$gleStats", "lastCommittedOpTime")


@dataclass
class RouterCore:
    """What one router holds: the catalog, its shards, router cursors, sessions' transactions."""

    catalog: Catalog
    shards: dict[str, Shard]
    # The coordinators' decisions, kept by the shard that coordinated (a cluster-wide table
    # standing for each coordinator shard's config.transaction_coordinators).
    coordinations: dict[str, dict[tuple[bytes, int], Any]]
    # Each shard's fail points (the coordinator's hangBeforeWritingDecision is read there).
    shard_fail_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    cluster_time: int = 0
    txns: dict[bytes, RouterTxn] = field(default_factory=dict)
    cursors: dict[int, Any] = field(default_factory=dict)
    _cursor_ids: Any = field(default_factory=lambda: itertools.count(7_000_000_001))

    def new_cursor_id(self) -> Int64:
        return Int64(next(self._cursor_ids))

    def gossip(self) -> dict[str, Any]:
        return {
            "clusterTime": int_to_ts(self.cluster_time),
            "signature": {"hash": _ZERO_HASH, "keyId": Int64(0)},
        }

    def learn_time(self, doc: dict[str, Any]) -> None:
        ct = doc.get("$clusterTime")
        if isinstance(ct, dict) and isinstance(ct.get("clusterTime"), Timestamp):
            self.cluster_time = max(self.cluster_time, ts_to_int(ct["clusterTime"]))


@dataclass
class Call:
    """One client request at the router: its body, database, session and transaction."""

    core: RouterCore
    body: dict[str, Any]
    db: str
    lsid: dict[str, Any] | None = None
    txn_number: Int64 | None = None
    txn: RouterTxn | None = None  # set when the request is a transaction's statement
    # Shards a retryable write's txnNumber went to: the sandbox's shards record a reply per
    # txnNumber (no per-statement stmtIds), so a second sub-batch to one shard goes
    # without it rather than be answered with the first one's recorded reply.
    retry_sent: set[str] = field(default_factory=set)

    @property
    def catalog(self) -> Catalog:
        return self.core.catalog

    def sharded(self, coll: str) -> ShardedCollection | None:
        return self.core.catalog.collections.get(f"{self.db}.{coll}")

    def primary(self) -> str:
        return self.core.catalog.primary_shard(self.db)

    async def send(self, shard: str, body: dict[str, Any], db: str | None = None) -> dict[str, Any]:
        """Run `body` on `shard` with this request's session fields, as mongos does: lsid
        and txnNumber on every shard request; in a transaction, `startTransaction`,
        `autocommit: false` and the transaction's read concern (with the one
        `atClusterTime` of a snapshot transaction) on the first statement a participant
        sees, and `coordinator: true` on the first participant
        [srv:s/transaction_router.cpp TransactionRouter::Participant::attachTxnFieldsIfNeeded,
        TransactionRouter::Router::_createParticipant]. A shard that cannot be reached is
        HostUnreachable (6)."""
        out = dict(body)
        out["$db"] = db or self.db
        if self.lsid is not None:
            out["lsid"] = self.lsid
        if self.txn is not None:
            out.update(self.txn.fields_for(shard))
        elif self.txn_number is not None and shard not in self.retry_sent:
            out["txnNumber"] = self.txn_number
            self.retry_sent.add(shard)
        out["$clusterTime"] = self.core.gossip()
        try:
            reply = await self.core.shards[shard].command(out)
        except OSError as exc:
            raise CommandError(
                6, f"Connection refused to shard {shard} :: caused by :: {exc.strerror or 'closed'}"
            ) from None
        self.core.learn_time(reply)
        for name in _SHARD_ONLY:
            reply.pop(name, None)
        return reply

    async def send_all(
        self, shards: list[str], body: dict[str, Any], db: str | None = None
    ) -> list[dict[str, Any]]:
        """`body` to each shard at once (mongos's AsyncRequestsSender)."""
        return list(await asyncio.gather(*(self.send(s, body, db) for s in shards)))


def raise_for(reply: dict[str, Any], shard: str | None = None) -> None:
    """A shard's error reply as the router's own (same code, name, labels)."""
    if reply.get("ok"):
        return
    code = int(reply.get("code", 8))
    labels = reply.get("errorLabels")
    extra = {k: reply[k] for k in ("writeConcernError",) if k in reply}
    raise CommandError(
        code,
        str(reply.get("errmsg", "")),
        labels=list(labels) if labels else None,
        extra=extra,
        code_name_override=reply.get("codeName"),
    )

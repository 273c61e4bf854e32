"""A sharded cluster as the router answers for it: its shards (`listShards`) and, per open
transaction, its participants, each with its `prepareTimestamp` once prepared (the shards'
`$currentOp` entries, which a mongos tags with `shard`). Pure: the backend reads them.

Fields as MongoDB reports them [manual: reference/command/listShards; manual:
reference/operator/aggregation/currentOp ("shard", "transaction.prepareTimestamp",
"transaction.timePreparedMicros"); srv:db/transaction/transaction_participant.cpp
TransactionParticipant::Participant::reportUnstashedState/_reportTransactionStats]."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .server_view import lsid_hex


@dataclass(frozen=True)
class Shard:
    id: str
    host: str


@dataclass(frozen=True)
class Participant:
    """One shard's part of a transaction: prepared (with its timestamp) or not yet."""

    shard: str
    prepare_ts: Any = None  # a bson Timestamp once prepared

    @property
    def prepared(self) -> bool:
        return self.prepare_ts is not None

    def text(self) -> str:
        if not self.prepared:
            return f"{self.shard} in progress"
        return f"{self.shard} prepared at {ts_text(self.prepare_ts)}"


@dataclass(frozen=True)
class ShardedTxn:
    """A transaction's participants, in the shards' order."""

    lsid: str
    txn_number: int
    lane: str
    participants: tuple[Participant, ...]

    @property
    def label(self) -> str:
        who = f"lane {self.lane}" if self.lane else f"lsid {self.lsid[:8]}…"
        return f"{who} txn {self.txn_number}"

    @property
    def prepared(self) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.prepared)

    def line(self) -> str:
        """`lane A txn 1: shard0 prepared at 1796423451:5, shard1 in progress`."""
        return f"{self.label}: " + ", ".join(p.text() for p in self.participants)


@dataclass
class ClusterView:
    """One read of the cluster: its shards and its transactions' participants."""

    shards: list[Shard] = field(default_factory=list)
    txns: list[ShardedTxn] = field(default_factory=list)
    error: str = ""

    def header(self) -> str:
        """`router · 2 shards: shard0, shard1`."""
        if not self.shards:
            return "router · shards not listed"
        names = ", ".join(s.id for s in self.shards)
        return f"router · {len(self.shards)} shard{'s' if len(self.shards) != 1 else ''}: {names}"

    def prepared(self) -> list[ShardedTxn]:
        return [t for t in self.txns if t.prepared]

    def of_lane(self, lane: str) -> ShardedTxn | None:
        return next((t for t in self.txns if t.lane == lane), None)


def ts_text(ts: Any) -> str:
    """A bson Timestamp as `time:inc` (what mongosh prints inside Timestamp({t, i}))."""
    t, i = getattr(ts, "time", None), getattr(ts, "inc", None)
    return f"{t}:{i}" if t is not None else str(ts)


def shards_of(reply: Mapping[str, Any]) -> list[Shard]:
    """listShards' `shards`: `{_id, host}` each."""
    out = []
    for doc in reply.get("shards") or []:
        if isinstance(doc, Mapping) and isinstance(doc.get("_id"), str):
            out.append(Shard(doc["_id"], str(doc.get("host", ""))))
    return out


def participants_of(
    docs: Iterable[Mapping[str, Any]], lanes: Mapping[str, str]
) -> list[ShardedTxn]:
    """Group the shards' transaction entries by (lsid, txnNumber): a shard listing the
    transaction is a participant; its `prepareTimestamp` says it is prepared. `lanes` maps
    an lsid (hex) to the lane it belongs to."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for doc in docs:
        txn = doc.get("transaction")
        shard = doc.get("shard")
        if not isinstance(txn, Mapping) or not isinstance(shard, str):
            continue
        number = (txn.get("parameters") or {}).get("txnNumber")
        lsid = lsid_hex(doc.get("lsid"))
        if not lsid or not isinstance(number, int):
            continue
        found.setdefault((lsid, number), {})[shard] = txn.get("prepareTimestamp")
    out = []
    for (lsid, number), shards in found.items():
        parts = tuple(Participant(s, shards[s]) for s in sorted(shards))
        out.append(ShardedTxn(lsid, number, lanes.get(lsid, ""), parts))
    out.sort(key=lambda t: (t.lane == "", t.lane, t.lsid, t.txn_number))
    return out


def lane_line(txn: ShardedTxn | None, before: str, committed: bool, ended: bool) -> str:
    """What a lane shows of its transaction's shards, as the shards last listed them:
    `shards: shard0, shard1` and, once prepared, `prepared on both at T` (or each shard's
    own phase); once the shards list it no more, that with its outcome (`→ committed`).
    `before` is what the lane showed last."""
    if txn is not None:
        names = "shards: " + ", ".join(p.shard for p in txn.participants)
        prepared = txn.prepared
        if not prepared:
            return names
        stamps = {ts_text(p.prepare_ts) for p in prepared}
        if len(prepared) == len(txn.participants) and len(stamps) == 1:
            every = "both" if len(prepared) == 2 else f"all {len(prepared)}"
            return (
                f"{names}\nprepared on {every} at {stamps.pop()} · commit waits for the coordinator"
            )
        return f"{names}\n" + " · ".join(p.text() for p in txn.participants)
    if not before or "→" in before or not ended:
        return before
    first, _, phase = before.partition("\n")
    phase = phase.split(" · commit waits")[0]
    if not committed:
        return f"{first}\n{phase + ' ' if phase else ''}→ aborted"
    if phase:
        return f"{first}\n{phase} → committed (two-phase commit)"
    return f"{first} → committed"

"""Server sessions and multi-document transactions (state, write set, locks, expiry)."""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from .store import Collection, Index


class ServerTxnState(enum.Enum):
    """The server's transaction states (transaction_participant.cpp), minus prepare."""

    NONE = "none"
    IN_PROGRESS = "inProgress"
    COMMITTED = "committed"
    ABORTED = "aborted"
    RETRYABLE_WRITE = "executedRetryableWrite"


@dataclass
class TxnOp:
    """One write of a transaction, kept in statement order for change events."""

    op: str  # insert / update / replace / delete
    coll: Collection
    key: Hashable
    doc: dict[str, Any] | None
    update_description: dict[str, Any] | None = None
    pre_image: dict[str, Any] | None = None


@dataclass
class Transaction:
    """A multi-document transaction of one server session: its snapshot and writes."""

    lsid: dict[str, Any]
    txn_number: int
    read_concern: dict[str, Any]
    lifetime_seconds: float
    started_wall: float = field(default_factory=time.time)
    started_mono: float = field(default_factory=time.monotonic)
    snapshot: int | None = None
    state: ServerTxnState = ServerTxnState.IN_PROGRESS
    abort_reason: str = ""
    writes: dict[tuple[str, str], dict[Hashable, dict[str, Any] | None]] = field(
        default_factory=dict
    )
    ops: list[TxnOp] = field(default_factory=list)
    created: dict[tuple[str, str], Collection] = field(default_factory=dict)
    # Collections this transaction has used (it holds their intent locks until it ends).
    touched: set[tuple[str, str]] = field(default_factory=set)
    locked: list[tuple[Collection, Hashable]] = field(default_factory=list)
    # Unique index keys this transaction added: they conflict with other writers of the key
    # until it ends, and its commit stamps them with the commit time (Index.key_conflict).
    index_keys: list[tuple[Index, Hashable]] = field(default_factory=list)
    cursors: set[int] = field(default_factory=set)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    active_since: float | None = None
    time_active: float = 0.0
    commit_seq: int | None = None

    @property
    def expires_at(self) -> float:
        return self.started_mono + self.lifetime_seconds

    @property
    def open(self) -> bool:
        return self.state is ServerTxnState.IN_PROGRESS

    def write_set(self, coll: Collection) -> dict[Hashable, dict[str, Any] | None] | None:
        return self.writes.get((coll.db, coll.name))

    def record(self, coll: Collection, key: Hashable, doc: dict[str, Any] | None) -> None:
        ws = self.writes.setdefault((coll.db, coll.name), {})
        if key not in ws and coll.locks.get(key) is not self:
            coll.locks[key] = self
            self.locked.append((coll, key))
        ws[key] = doc

    def hold_key(self, index: Index, entry: Hashable) -> None:
        if index.holders.get(entry) is not self:
            index.holders[entry] = self
            self.index_keys.append((index, entry))

    def release(self) -> None:
        """Drop every lock this transaction holds and wake whoever waits for it."""
        for coll, key in self.locked:
            if coll.locks.get(key) is self:
                del coll.locks[key]
        self.locked.clear()
        for index, entry in self.index_keys:
            if index.holders.get(entry) is self:
                del index.holders[entry]
        self.index_keys.clear()
        self.ended.set()


@dataclass
class ServerSession:
    """What the server keeps per lsid."""

    lsid: dict[str, Any]
    last_use: float = field(default_factory=time.monotonic)
    active_txn_number: int = -1
    txn: Transaction | None = None
    # Retryable writes: txnNumber -> the reply of the write executed under it.
    retryable_replies: dict[int, dict[str, Any]] = field(default_factory=dict)
    retryable_is_txn: bool = False
    checkout: asyncio.Lock = field(default_factory=asyncio.Lock)
    running: asyncio.Task[Any] | None = None
    interrupted: bool = False  # set by killSessions before it cancels `running`

    @property
    def state(self) -> ServerTxnState:
        if self.txn is not None and self.txn.txn_number == self.active_txn_number:
            return self.txn.state
        if self.active_txn_number in self.retryable_replies or (
            self.active_txn_number >= 0 and not self.retryable_is_txn
        ):
            return ServerTxnState.RETRYABLE_WRITE
        return ServerTxnState.NONE

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
    """The server's transaction states (transaction_participant.cpp TransactionState)."""

    NONE = "none"
    IN_PROGRESS = "inProgress"
    PREPARED = "prepared"
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
    # The first statement's apiVersion, apiStrict and apiDeprecationErrors (those given).
    api_params: dict[str, Any] = field(default_factory=dict)
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
    # The connection of its last statement, as $currentOp reports an idle transaction's
    # client (client, connectionId, appName, clientMetadata).
    last_client: Any = None
    # prepareTransaction's timestamp, and when it prepared (prepare.py).
    prepare_ts: int | None = None
    prepared_mono: float | None = None

    @property
    def expires_at(self) -> float:
        return self.started_mono + self.lifetime_seconds

    @property
    def open(self) -> bool:
        """Not ended yet: in progress, or prepared (it holds its locks until it ends)."""
        return self.state in (ServerTxnState.IN_PROGRESS, ServerTxnState.PREPARED)

    @property
    def prepared(self) -> bool:
        return self.state is ServerTxnState.PREPARED

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
class TxnRecord:
    """The durable part of a session: its config.transactions entry, one per lsid.

    MongoDB writes a session's last txnNumber and the outcome of what ran under it into
    config.transactions (with the oplog) as part of the write or commit itself, so killing
    the session or reaping it from memory does not erase it: a retried commit of a
    committed transaction answers ok, a retried write its recorded result, an older
    txnNumber 225 (transaction_participant.cpp refreshFromStorageIfNeeded; the manual's
    retryable-writes page). The ServerSession shares this object, so a kill that drops the
    in-memory session leaves the record, and a write finishing after the kill still lands
    in it. Only the last txnNumber's replies are kept, as config.transactions does.
    """

    txn_number: int = -1
    is_txn: bool = False
    # Retryable writes: txnNumber -> the reply of the write executed under it.
    replies: dict[int, dict[str, Any]] = field(default_factory=dict)
    # The ended transaction txn_number, kept when its in-memory session is dropped.
    outcome: ServerTxnState = ServerTxnState.NONE
    commit_seq: int | None = None
    last_use: float = field(default_factory=time.monotonic)

    def finished_txn(self, lsid: dict[str, Any]) -> Transaction | None:
        """The kept outcome as an ended Transaction for a session rebuilt from the record."""
        if not self.is_txn or self.outcome not in (
            ServerTxnState.COMMITTED,
            ServerTxnState.ABORTED,
        ):
            return None
        txn = Transaction(lsid, self.txn_number, {}, 0.0, state=self.outcome)
        txn.commit_seq = self.commit_seq
        txn.ended.set()
        return txn


@dataclass
class ServerSession:
    """What the server keeps per lsid in memory; `record` is what outlives it."""

    lsid: dict[str, Any]
    record: TxnRecord = field(default_factory=TxnRecord)
    last_use: float = field(default_factory=time.monotonic)
    txn: Transaction | None = None
    checkout: asyncio.Lock = field(default_factory=asyncio.Lock)
    running: asyncio.Task[Any] | None = None
    interrupted: bool = False  # set by killSessions before it cancels `running`

    @property
    def active_txn_number(self) -> int:
        return self.record.txn_number

    @active_txn_number.setter
    def active_txn_number(self, value: int) -> None:
        self.record.txn_number = value

    @property
    def retryable_replies(self) -> dict[int, dict[str, Any]]:
        return self.record.replies

    @retryable_replies.setter
    def retryable_replies(self, value: dict[int, dict[str, Any]]) -> None:
        self.record.replies = value

    @property
    def retryable_is_txn(self) -> bool:
        return self.record.is_txn

    @retryable_is_txn.setter
    def retryable_is_txn(self, value: bool) -> None:
        self.record.is_txn = value

    @property
    def state(self) -> ServerTxnState:
        if self.txn is not None and self.txn.txn_number == self.active_txn_number:
            return self.txn.state
        if self.active_txn_number in self.retryable_replies or (
            self.active_txn_number >= 0 and not self.retryable_is_txn
        ):
            return ServerTxnState.RETRYABLE_WRITE
        return ServerTxnState.NONE

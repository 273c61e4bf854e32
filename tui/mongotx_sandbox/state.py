"""Everything one sandbox server holds: catalog, clock, sessions, cursors, fail points."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bson.objectid import ObjectId

from .clock import ClusterClock
from .connections import Connection
from .errors import WRITE_CONFLICT_MSG, CommandError
from .operations import OperationTable
from .oplog_holes import OplogHoles
from .store import Catalog
from .transactions import ServerSession, ServerTxnState, Transaction, TxnRecord

if TYPE_CHECKING:
    from .auth import AuthState

LOGICAL_SESSION_TIMEOUT_MINUTES = 30


@dataclass
class OplogEntry:
    """A committed write, as change streams report it."""

    seq: int
    wall: float
    op: str
    db: str
    coll: str
    key: Any
    doc: dict[str, Any] | None
    doc_id: Any = None
    update_description: dict[str, Any] | None = None
    lsid: dict[str, Any] | None = None
    txn_number: int | None = None
    pre_image: dict[str, Any] | None = None
    images: bool = False  # changeStreamPreAndPostImages was enabled at the write
    extra: dict[str, Any] | None = None  # DDL details: rename target, operationDescription
    uuid: Any = None  # the collection's UUID when the write happened
    # A chunk migration's write (the recipient's clone, the donor's range deletion): the
    # oplog's `fromMigrate: true`, which change streams skip [srv:db/s/
    # migration_destination_manager.cpp, performInserts with OperationSource::kFromMigrate;
    # db/s/range_deletion_util.cpp, DeleteStageParams::fromMigrate].
    from_migrate: bool = False


@dataclass
class Stats:
    """Transaction counters, as serverStatus reports them."""

    total_started: int = 0
    total_committed: int = 0
    total_aborted: int = 0
    retried_commands: int = 0
    retried_statements: int = 0
    total_prepared: int = 0
    total_prepared_then_committed: int = 0
    total_prepared_then_aborted: int = 0


@dataclass
class ServerState:
    """Everything the server holds: catalog, clock, sessions, cursors, oplog."""

    replset: str | None = "rs0"  # None: a standalone server (no transactions)
    host: str = "127.0.0.1:27017"
    catalog: Catalog = field(default_factory=Catalog)
    clock: ClusterClock = field(default_factory=ClusterClock)
    sessions: dict[Hashable, ServerSession] = field(default_factory=dict)
    # config.transactions: one record per lsid that used a txnNumber, kept when its session
    # is killed, ended or reaped; dropped by reap_expired once idle for the session timeout.
    txn_records: dict[Hashable, TxnRecord] = field(default_factory=dict)
    cursors: dict[int, Any] = field(default_factory=dict)
    fail_points: dict[str, Any] = field(default_factory=dict)
    # How many times each fail point was entered (configureFailPoint's `count`,
    # waitForFailPoint), and who waits for the next entry or change (failpoints.py).
    fail_point_counts: dict[str, int] = field(default_factory=dict)
    fail_point_event: asyncio.Event | None = None
    parameters: dict[str, Any] = field(
        default_factory=lambda: {
            # Defaults from transaction_participant.idl (reference §3.8).
            "transactionLifetimeLimitSeconds": 60,
            "maxTransactionLockRequestTimeoutMillis": 5,
            "minSnapshotHistoryWindowInSeconds": 300,
            # Server-side JavaScript (mapReduce), defaults from query_knobs.idl and SERVER-68766.
            "internalQueryJavaScriptFnTimeoutMillis": 60_000,
            "internalQueryJavaScriptHeapSizeLimitMB": 100,
            "mrEnableSingleReduceOptimization": False,
            # Idle cursors: cursor_server_params.idl (cursors.expire_idle).
            "cursorTimeoutMillis": 600_000,
            "enableTimeoutOfInactiveSessionCursors": False,
            "enableTestCommands": True,
        }
    )
    stats: Stats = field(default_factory=Stats)
    oplog: deque[OplogEntry] = field(default_factory=lambda: deque(maxlen=100_000))
    # Set and replaced on every committed write: change streams wait on it.
    oplog_event: asyncio.Event | None = None
    started: float = field(default_factory=time.time)
    election_id: ObjectId = field(default_factory=lambda: ObjectId("7fffffff0000000000000001"))
    next_connection_id: int = 1
    connections: dict[int, Connection] = field(default_factory=dict)
    # Operations waiting now for an open transaction to end (a document or a unique key it
    # holds): what $currentOp's waitingForLock will show (issue 17, D6).
    waiting_for_transactions: int = 0
    # The commands running now, by opid: $currentOp, currentOp and killOp (issue 17, D6).
    operations: OperationTable = field(default_factory=OperationTable)
    # DDL commands waiting for the exclusive lock: (db, coll or None) -> set when done.
    ddl_pending: dict[tuple[str, str | None], asyncio.Event] = field(default_factory=dict)
    # The prepared transactions by id(): while any is, reads check for prepare conflicts.
    prepared: dict[int, Transaction] = field(default_factory=dict)
    # Oplog slots reserved and not yet written: reads that name a time wait for them, and
    # snapshots are taken below them (oplog_holes.py).
    oplog_holes: OplogHoles = field(default_factory=OplogHoles)
    # Users (auth/): None until --auth or the first createUser; `enforced` with --auth.
    auth: AuthState | None = None
    # This server's membership of a multi-member replica set (replication.SetMember); None
    # for one member. Dispatch asks it about roles and concerns, topology about the set.
    replica: Any = None
    # The profiler's settings (profiler.ProfilerSettings) and the server's in-memory logs
    # (ramlog.ServerLogs), each made on first use.
    profiler: Any = None
    ramlog: Any = None

    # ---- connections ----------------------------------------------------------------
    def connect(self, peer: str) -> Connection:
        """A new client connection, with the next connection id."""
        conn = Connection(self.next_connection_id, peer)
        self.next_connection_id += 1
        self.connections[conn.id] = conn
        return conn

    def disconnect(self, conn: Connection) -> None:
        self.connections.pop(conn.id, None)

    # ---- sessions -------------------------------------------------------------------
    def session(self, lsid: dict[str, Any]) -> ServerSession:
        key = session_key(lsid)
        sess = self.sessions.get(key)
        if sess is None:
            # A killed or reaped session comes back with its record (refreshFromStorage).
            record = self.txn_records.setdefault(key, TxnRecord())
            sess = self.sessions[key] = ServerSession(lsid=lsid, record=record)
            sess.txn = record.finished_txn(lsid)
        sess.last_use = sess.record.last_use = time.monotonic()
        return sess

    def forget_session(self, key: Hashable) -> ServerSession | None:
        """Drop a session from memory, keeping its record (kill, end, reap).

        The caller has ended its transaction: its outcome goes into the record, as the
        commit wrote it to config.transactions. An abort caused by the kill is kept too, so
        a retried commitTransaction or abortTransaction answers 251 "has been aborted", what
        the in-memory session answers after killSessionsAbortUnpreparedTransactions
        (kill_sessions_kills_transaction.js; reference §3.2, §5.2).
        """
        sess = self.sessions.pop(key, None)
        if sess is None:
            return None
        record = sess.record
        txn = sess.txn
        if txn is not None and txn.txn_number == record.txn_number and not txn.open:
            record.outcome = txn.state
            record.commit_seq = txn.commit_seq
        else:
            record.outcome, record.commit_seq = ServerTxnState.NONE, None
        if record.txn_number < 0:
            # Never used a txnNumber: config.transactions has no entry for it.
            self.txn_records.pop(key, None)
        return sess

    def oldest_snapshot(self) -> int:
        """The oldest snapshot an open transaction still reads from."""
        oldest = self.clock.now()
        if self.replica is not None:
            oldest = min(oldest, self.replica.pinned())  # what lagging members still read
        for sess in self.sessions.values():
            txn = sess.txn
            if txn is not None and txn.open and txn.snapshot is not None:
                oldest = min(oldest, txn.snapshot)
        return oldest

    def oldest_timestamp(self, pinned: int | None = None) -> int:
        """The oldest timestamp a read may use; older versions are dropped as it moves.

        It trails the stable timestamp by minSnapshotHistoryWindowInSeconds (store.History).
        The wall clock stands in for the no-op writes that keep an idle primary's stable
        timestamp moving (periodicNoopIntervalSecs).
        """
        window = int(self.parameters.get("minSnapshotHistoryWindowInSeconds", 300))
        stable = max(self.clock.now(), int(self.clock.wall()) << 32)
        history = self.catalog.version_history
        if pinned is None:
            pinned = self.oldest_snapshot()
        history.advance(max(0, stable - (window << 32)), pinned)
        return history.oldest

    def open_transactions(self) -> list[Transaction]:
        return [s.txn for s in self.sessions.values() if s.txn is not None and s.txn.open]

    # ---- transaction end ------------------------------------------------------------
    def commit(self, txn: Transaction, visible_at: int | None = None) -> int:
        """Make a transaction's writes visible at one new commit time (a prepared one's at
        `visible_at`, its commitTimestamp: prepare.commit_prepared).

        A collection the transaction created whose name another operation created, dropped
        or renamed since the snapshot makes the commit fail with WriteConflict: the first
        to commit a catalog change to a namespace wins (jstests concurrent_drops_and_creates.js,
        8.0 version: a create outside the transaction, then the transaction's implicit create
        of the same name, and its commit fails with WriteConflict)."""
        snapshot = txn.snapshot or 0
        for db, name in txn.created:
            if self.catalog.get(db, name) is not None or self.catalog.changed_since(
                db, name, snapshot
            ):
                raise CommandError(112, WRITE_CONFLICT_MSG)
        has_writes = any(txn.writes.values()) or bool(txn.created)
        seq = self.clock.tick() if has_writes else self.clock.now()
        version_seq = seq if visible_at is None else visible_at
        oldest = self.oldest_snapshot()
        for coll in txn.created.values():
            self.catalog.add(coll, seq, oldest)
        for (db, name), ws in txn.writes.items():
            coll = self.catalog.get(db, name) or txn.created.get((db, name))
            if coll is None:
                continue
            for key, doc in ws.items():
                coll.append(key, version_seq, doc, self.catalog.version_history)
        for index, entry in txn.index_keys:
            index.note_written(entry, version_seq, oldest)
        wall = self.clock.wall()
        for op in txn.ops:
            images = images_enabled(op.coll.options)
            self.oplog.append(
                OplogEntry(
                    seq,
                    wall,
                    op.op,
                    op.coll.db,
                    op.coll.name,
                    op.key,
                    _logged_doc(op.op, op.doc, images),
                    doc_id=(op.doc or op.pre_image or {}).get("_id"),
                    update_description=op.update_description,
                    lsid=txn.lsid,
                    txn_number=txn.txn_number,
                    pre_image=op.pre_image if images else None,
                    images=images,
                    uuid=op.coll.uuid,
                )
            )
        txn.state = ServerTxnState.COMMITTED
        txn.commit_seq = seq
        self._end(txn)
        self.stats.total_committed += 1
        if txn.ops:
            self.notify_oplog()
        return seq

    def abort(self, txn: Transaction, reason: str = "", *, prepared: bool = False) -> None:
        """End `txn` without its writes. A prepared transaction ends only by an explicit
        abortTransaction (`prepared`): a failed statement, a session kill or the lifetime
        limit never abort it [srv:db/transaction/transaction_participant.cpp
        abortTransaction, Observer::expiredAsOf (in progress only);
        db/session/kill_sessions_local.cpp killSessionsAbortUnpreparedTransactions]."""
        if not txn.open or (txn.prepared and not prepared):
            return
        if txn.prepared:
            self.stats.total_prepared_then_aborted += 1
        txn.state = ServerTxnState.ABORTED
        txn.abort_reason = reason
        self._end(txn)
        self.stats.total_aborted += 1

    def _end(self, txn: Transaction) -> None:
        self.prepared.pop(id(txn), None)
        txn.release()
        for cursor_id in list(txn.cursors):
            self.cursors.pop(cursor_id, None)
        txn.cursors.clear()
        self.oldest_timestamp()  # its snapshot no longer pins history

    def notify_oplog(self) -> None:
        event = self.oplog_event
        if event is not None:
            event.set()
            self.oplog_event = asyncio.Event()

    def log_write(
        self,
        seq: int,
        op: str,
        db: str,
        coll: str,
        key: Any = None,
        doc: dict[str, Any] | None = None,
        *,
        pre_image: dict[str, Any] | None = None,
        update_description: dict[str, Any] | None = None,
        images: bool = False,
        extra: dict[str, Any] | None = None,
        uuid: Any = None,
        from_migrate: bool = False,
    ) -> None:
        """Record a committed non-transactional write or a DDL event for change streams."""
        doc_id = (doc or pre_image or {}).get("_id")
        doc = _logged_doc(op, doc, images)
        if not images:
            pre_image = None
        self.oplog.append(
            OplogEntry(
                seq,
                self.clock.wall(),
                op,
                db,
                coll,
                key,
                doc,
                doc_id,
                update_description,
                pre_image=pre_image,
                images=images,
                extra=extra,
                uuid=uuid,
                from_migrate=from_migrate,
            )
        )
        self.notify_oplog()

    def reap_expired(self) -> int:
        """Abort transactions past transactionLifetimeLimitSeconds (§3.8); return how many."""
        now = time.monotonic()
        n = 0
        for txn in self.open_transactions():
            if txn.expires_at <= now and not txn.prepared:
                self.abort(txn, "exceeded transactionLifetimeLimitSeconds")
                n += 1
        # Idle sessions expire after logicalSessionTimeoutMinutes.
        idle_limit = now - LOGICAL_SESSION_TIMEOUT_MINUTES * 60
        for key, sess in list(self.sessions.items()):
            if sess.last_use < idle_limit and not (sess.txn and sess.txn.open):
                if not sess.checkout.locked():
                    self.forget_session(key)
        # A record goes when its session has expired: MongoDB's TTL index on
        # config.system.sessions expires the session after logicalSessionTimeoutMinutes and
        # the transaction reaper then deletes its config.transactions entry once older than
        # TransactionRecordMinimumLifetimeMinutes (30 too). So records are bounded by the
        # lsids used in the last 30 minutes, one each, holding one txnNumber's replies.
        for key, record in list(self.txn_records.items()):
            if key not in self.sessions and record.last_use < idle_limit:
                del self.txn_records[key]
        return n


def session_key(lsid: dict[str, Any]) -> Hashable:
    sid = lsid.get("id")
    uid = lsid.get("uid")
    return (bytes(sid) if sid is not None else None, bytes(uid) if uid is not None else None)


def _logged_doc(op: str, doc: dict[str, Any] | None, images: bool) -> dict[str, Any] | None:
    """What an oplog entry keeps of the written document. An update's entry holds only its
    diff (`o` with $v: 2); the document after it is a post-image, kept only where
    changeStreamPreAndPostImages is on (as are pre-images). Keeping every version here
    would hold all history for as long as the oplog, whatever the history window."""
    return None if op == "update" and not images else doc


def images_enabled(options: dict[str, Any]) -> bool:
    images = options.get("changeStreamPreAndPostImages")
    return isinstance(images, dict) and bool(images.get("enabled"))

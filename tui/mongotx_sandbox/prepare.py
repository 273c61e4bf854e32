"""Prepared transactions on a replica-set member: the first phase of a cross-shard commit
(issue 15, item 3).

Once `prepareTransaction` has run, a transaction keeps its writes and locks until
`commitTransaction` (with a `commitTimestamp`) or `abortTransaction` ends it; nothing else
may run in it, nothing else aborts it. Meanwhile a read at or after its prepare timestamp
that needs a document it wrote waits (a prepare conflict: WiredTiger answers
WT_PREPARE_CONFLICT and mongod retries [srv:db/storage/wiredtiger/
wiredtiger_prepare_conflict.h wiredTigerPrepareConflictRetry]; which reads, see
_read_timestamp), a write of such a document outside a transaction waits, another
transaction's write conflicts, and a new transaction on its session waits for it to end
[srv:db/service_entry_point_common.cpp _checkOutSession, waitAfterNewStatementBlocksBehindPrepare].
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bson.int64 import Int64
from bson.timestamp import Timestamp

from . import engine
from .access import id_point_keys
from .clock import int_to_ts, ts_to_int
from .errors import CommandError
from .transactions import ServerTxnState, Transaction

if TYPE_CHECKING:
    from .access import OpContext
    from .store import Collection

# The commands a prepared transaction still accepts
# [srv:db/transaction/transaction_participant.cpp preparedTxnCmdWhitelist].
PREPARED_COMMANDS = frozenset({"abortTransaction", "commitTransaction", "prepareTransaction"})
# The test fail point that holds a new statement once it blocked behind a prepared
# transaction on its session (jstests new_transactions_on_session_with_prepared_txn_*).
BLOCKED_FAIL_POINT = "waitAfterNewStatementBlocksBehindPrepare"
# The test fail point that holds prepareTransaction between reserving its oplog slot and
# writing it (jstests timestamped_reads_wait_for_prepare_oplog_visibility.js).
HANG_AFTER_RESERVING = "hangAfterReservingPrepareTimestamp"
# The read concern levels whose reads outside a transaction may ignore prepare conflicts.
_IGNORING_LEVELS = frozenset({"local", "available", "majority"})
# Aggregation stages that read no document of the collection they name.
_NO_DOCUMENT_STAGES = frozenset(
    {"$changeStream", "$collStats", "$indexStats", "$planCacheStats", "$listSessions"}
)


class BehindPrepare(Exception):
    """A statement that would begin a new txnNumber on a session whose transaction is
    prepared: the session is released and the statement waits for that transaction."""

    def __init__(self, txn: Transaction) -> None:
        super().__init__()
        self.txn = txn


def check_statement(txn: Transaction, name: str) -> None:
    """Only prepare, commit and abort run in a prepared transaction
    [srv:db/transaction/transaction_participant.cpp _checkIsCommandValidWithTxnState]."""
    if txn.prepared and name not in PREPARED_COMMANDS:
        raise CommandError(
            267,
            "Cannot call any operation other than abort, prepare or commit on a prepared "
            "transaction",
        )


async def prepare(ctx: OpContext, txn: Transaction) -> int:
    """Prepare `txn` at a new timestamp (its prepare oplog slot); again: the same one
    [srv:db/s/txn_two_phase_commit_cmds.cpp PrepareTransactionCmd; db/transaction/
    transaction_participant.cpp Participant::prepareTransaction]."""
    if txn.prepared:
        assert txn.prepare_ts is not None
        return txn.prepare_ts
    for op in txn.ops:
        if op.coll.options.get("temp"):
            # Temporary collections are dropped at step-up and startup: a prepared
            # transaction could not be recovered on them.
            ctx.state.abort(txn, "prepareTransaction on a temporary collection")
            raise CommandError(
                263,
                "prepareTransaction failed because one of the transaction operations was "
                f"done against a temporary collection '{op.coll.ns}'.",
            )
    state = ctx.state
    if HANG_AFTER_RESERVING not in state.fail_points:
        # The slot is reserved and written in one step: never a hole.
        ts = state.clock.tick()
    else:
        ts = await _reserve_and_hang(ctx)
        if not txn.open:
            # Ended meanwhile (its lifetime limit, a killed session): the slot is given back.
            state.oplog_holes.fill(ts)
            raise CommandError(
                251, f"Transaction with {{ txnNumber: {txn.txn_number} }} has been aborted."
            )
    txn.state = ServerTxnState.PREPARED
    txn.prepare_ts = ts
    txn.prepared_mono = time.monotonic()
    state.prepared[id(txn)] = txn
    state.stats.total_prepared += 1
    state.oplog_holes.fill(ts)  # the prepare oplog entry is written
    return ts


async def _reserve_and_hang(ctx: OpContext) -> int:
    """Reserve the prepare oplog slot, then hold while the fail point is on: the slot is a
    hole meanwhile (oplog_holes.py). In mongod the slot is reserved (OplogSlotReserver)
    before the fail point, which holds the command until it is turned off
    [srv:db/transaction/transaction_participant.cpp Participant::prepareTransaction,
    hangAfterReservingPrepareTimestamp]. An interrupted wait gives the slot back."""
    from . import failpoints  # loaded only once a fail point is set

    state = ctx.state
    ts = state.oplog_holes.reserve(state.clock)
    op = ctx.op
    try:
        failpoints.enter(state, HANG_AFTER_RESERVING)
        if op is not None:
            op.failpoint_msg = HANG_AFTER_RESERVING
        while HANG_AFTER_RESERVING in state.fail_points:
            await failpoints.changed(state)
    except BaseException:
        state.oplog_holes.fill(ts)
        raise
    finally:
        if op is not None:
            op.failpoint_msg = None
    return ts


def commit_timestamp(body: dict[str, Any]) -> int | None:
    """commitTransaction's `commitTimestamp` (a timestamp, when given) [srv:db/
    transaction/transaction_participant.cpp commitPreparedTransaction; IDL type check]."""
    if "commitTimestamp" not in body:
        return None
    value = body["commitTimestamp"]
    if not isinstance(value, Timestamp):
        raise CommandError(
            14,
            "BSON field 'commitTransaction.commitTimestamp' is the wrong type "
            f"'{engine.type_name(value)}', expected type 'timestamp'",
        )
    return ts_to_int(value)


def check_commit(txn: Transaction, commit_ts: int | None) -> None:
    """The rules of commitTransaction on a transaction in progress or prepared, in the
    source's order [srv:db/transaction/transaction_participant.cpp
    commitUnpreparedTransaction, commitPreparedTransaction]."""
    if commit_ts is None:
        if txn.prepared:
            raise CommandError(
                72, "commitTransaction must provide commitTimestamp to prepared transaction."
            )
        return
    if not txn.prepared:
        raise CommandError(
            72, "commitTransaction cannot provide commitTimestamp to unprepared transaction."
        )
    if commit_ts == 0:
        raise CommandError(72, "'commitTimestamp' cannot be null")
    assert txn.prepare_ts is not None
    if commit_ts < txn.prepare_ts:
        raise CommandError(
            72, "'commitTimestamp' must be greater than or equal to 'prepareTimestamp'"
        )


def commit_prepared(ctx: OpContext, txn: Transaction, commit_ts: int) -> int:
    """Commit a prepared transaction: its documents' new versions are visible from
    `commit_ts` on (a read at that time waited for it: it met the prepared writes), and
    its commit oplog entry takes a new timestamp after it [commitPreparedTransaction:
    setCommitTimestamp, then "Commit oplog entry must be greater than or equal to commit
    timestamp"]. No other write touched its documents since the prepare: it held them."""
    ctx.state.clock.advance(commit_ts)
    seq = ctx.state.commit(txn, visible_at=commit_ts)
    ctx.state.stats.total_prepared_then_committed += 1
    return seq


async def wait_behind_prepare(ctx: OpContext, txn: Transaction) -> None:
    """A new transaction on a session whose transaction is prepared waits for it to end
    (with the test fail point on, $currentOp shows it as `failpointMsg`)."""
    op = ctx.op
    if BLOCKED_FAIL_POINT in ctx.state.fail_points:
        from . import failpoints  # loaded only once a fail point is set

        failpoints.enter(ctx.state, BLOCKED_FAIL_POINT)
        if op is not None:
            op.failpoint_msg = BLOCKED_FAIL_POINT
    try:
        await ctx.wait_for(txn)
    finally:
        if op is not None:
            op.failpoint_msg = None


# ---- prepare conflicts ---------------------------------------------------------------
async def before_statement(ctx: OpContext, name: str, body: dict[str, Any]) -> None:
    """Wait while the command would read a document a prepared transaction wrote (run only
    while some transaction is prepared). Each wait counts as a prepare read conflict
    ($currentOp's and system.profile's `prepareReadConflicts`), its time as the slow-query
    line's `prepareConflictDurationMillis` (profiler.py)."""
    target = body.get(name)
    if type(target) is not str:
        return
    filters = _filters(name, body)
    if not filters:
        return
    read_ts = _read_timestamp(ctx, name, body)
    while ctx.state.prepared:
        coll = ctx.state.catalog.get(ctx.db, target)
        if coll is None or coll.is_view:
            return
        blocker = _conflict(ctx, coll, filters, read_ts)
        if blocker is None:
            return
        op = ctx.op
        if op is None:
            await ctx.wait_for(blocker)
            continue
        # Counted and timed as the storage layer's prepare-conflict retry loop does
        # [srv:db/storage/wiredtiger/wiredtiger_prepare_conflict.h; db/storage/
        # prepare_conflict_tracker.cpp beginPrepareConflict, endPrepareConflict].
        op.prepare_read_conflicts += 1
        since = time.monotonic()
        try:
            await ctx.wait_for(blocker)
        finally:
            op.prepare_conflict_seconds += time.monotonic() - since


def _filters(name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The filters the command reads the collection with ({}: all of it); none when it
    reads no document or ignores prepare conflicts."""
    if name == "find" or name == "distinct":
        q = body.get("filter" if name == "find" else "query")
        return [q if isinstance(q, dict) else {}]
    if name == "count":
        # A count without a query reads the collection's size, not its documents.
        q = body.get("query")
        return [q] if isinstance(q, dict) and q else []
    if name in ("findAndModify", "findandmodify"):
        q = body.get("query")
        return [q if isinstance(q, dict) else {}]
    if name in ("update", "delete"):
        items = body.get("updates" if name == "update" else "deletes")
        if not isinstance(items, list):
            return []
        return [i["q"] for i in items if isinstance(i, dict) and isinstance(i.get("q"), dict)]
    if name == "aggregate":
        return _pipeline_filters(body.get("pipeline"))
    return []


def _pipeline_filters(pipeline: Any) -> list[dict[str, Any]]:
    """An aggregation's reads: its leading $match, else all. A pipeline that writes ($out,
    $merge) reads ignoring prepare conflicts and waits only in its writes
    [srv:db/pipeline/process_interface/common_mongod_process_interface.cpp; jstests
    prepare_conflict_aggregation_behavior.js, PrepareConflictBehavior::kIgnoreConflictsAllowWrites]."""
    if not isinstance(pipeline, list):
        return []
    stages = [next(iter(s)) for s in pipeline if isinstance(s, dict) and s]
    if any(s in ("$out", "$merge") for s in stages):
        return []
    if stages and stages[0] in _NO_DOCUMENT_STAGES:
        return []
    first = pipeline[0] if pipeline else None
    if isinstance(first, dict) and isinstance(first.get("$match"), dict):
        return [first["$match"]]
    return [{}]


def _read_timestamp(ctx: OpContext, name: str, body: dict[str, Any]) -> int | None:
    """When the read meets prepared writes: it does if it reads at or after their prepare
    timestamp (None: the latest data, after every prepare).

    A read outside a transaction at level local, available or majority, without
    afterClusterTime or atClusterTime, ignores prepare conflicts and sees the last committed
    versions [srv:db/read_concern_mongod.cpp canIgnorePrepareConflicts]; a write never
    does (update, delete, findAndModify enforce them). The sandbox reads such a read at 0,
    before every prepare timestamp. A transaction reads at its snapshot, a read with
    atClusterTime there; any other read at the latest data.
    """
    if ctx.txn is not None:
        return ctx.txn.snapshot
    rc = body.get("readConcern")
    rc = rc if isinstance(rc, dict) else {}
    if isinstance(rc.get("atClusterTime"), Timestamp):
        return ts_to_int(rc["atClusterTime"])
    if name in ("update", "delete", "findAndModify", "findandmodify"):
        return None
    if "afterClusterTime" in rc or rc.get("level", "local") not in _IGNORING_LEVELS:
        return None
    return 0


def _conflict(
    ctx: OpContext, coll: Collection, filters: list[dict[str, Any]], read_ts: int | None
) -> Transaction | None:
    """The prepared transaction whose write the read would meet, if any. A read at a time
    before the prepare timestamp sees the older version and does not conflict (WiredTiger's
    prepared updates are visible only to reads at or after their prepare timestamp)."""
    for txn in list(ctx.state.prepared.values()):
        if txn is ctx.txn or txn.prepare_ts is None:
            continue
        if read_ts is not None and read_ts < txn.prepare_ts:
            continue
        ws = txn.writes.get((coll.db, coll.name))
        if not ws:
            continue
        for key, new in ws.items():
            old = coll.committed(key, None)
            if any(_examines(coll, f, key, (old, new)) for f in filters):
                return txn
    return None


def _examines(
    coll: Collection, query: dict[str, Any], key: Any, docs: tuple[dict | None, dict | None]
) -> bool:
    """Whether a read with `query` looks at document `key` (its committed or prepared
    version): by _id, the documents named; by an equality on a secondary index's first
    field, those whose value matches; otherwise (a collection scan) all of them."""
    keys = id_point_keys(query, None)
    if keys is not None:
        return key in keys
    for index in coll.indexes.values():
        if index.name == "_id_" or not index.key:
            continue
        path, kind = next(iter(index.key.items()))
        if not isinstance(kind, int | float) or path not in query:
            continue
        value = query[path]
        if isinstance(value, dict) and set(value) != {"$eq"}:
            continue
        try:
            return any(d is not None and engine.matches({path: value}, d) for d in docs)
        except engine.EngineError:
            return True
    return True


def report(txn: Transaction, now_mono: float) -> dict[str, Any]:
    """What $currentOp adds to a prepared transaction's `transaction` document
    [srv:db/transaction/single_transaction_stats.cpp report: timePreparedMicros;
    transaction_participant.cpp _reportTransactionStats: prepareTimestamp]."""
    if not txn.prepared or txn.prepare_ts is None:
        return {}
    since = txn.prepared_mono if txn.prepared_mono is not None else now_mono
    return {
        "timePreparedMicros": Int64(int((now_mono - since) * 1e6)),
        "prepareTimestamp": int_to_ts(txn.prepare_ts),
    }

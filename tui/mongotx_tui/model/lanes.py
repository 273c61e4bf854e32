"""A lane: one client session, its transaction state and its queue of operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .error_info import UNKNOWN_COMMIT, ErrorInfo
from .ops import OpSpec

LANE_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LANE_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")
MAX_LANES = 8


class TxnState(StrEnum):
    """The lane's transaction as the server last reported it (see `Lane` for who moves it).

    NONE → STARTING (t) → IN_PROGRESS (the first statement reached the server)
    STARTING → COMMITTED (an empty commit: nothing sent) | ABORTED (nothing sent)
    IN_PROGRESS → IN_PROGRESS (an error the server raised before it touched the txn)
                | SERVER_ABORTED (a statement error after which the server aborted it)
                | EXPIRED (past transactionLifetimeLimitSeconds, the server says it is gone)
                | COMMITTED | COMMIT_UNKNOWN | ABORTED (commit / abort replies)
    SERVER_ABORTED, EXPIRED → ABORTED (x, or c answered NoSuchTransaction)
    COMMIT_UNKNOWN → COMMITTED | ABORTED | COMMIT_UNKNOWN (the commit retried)
    COMMITTED → COMMITTED (a commit re-sent: MongoDB answers ok again)
    """

    NONE = "no transaction"
    STARTING = "starting"
    IN_PROGRESS = "in progress"
    SERVER_ABORTED = "aborted by server"
    EXPIRED = "expired — aborted by the server"
    COMMIT_UNKNOWN = "commit unknown"
    COMMITTED = "committed"
    ABORTED = "aborted"


# States in which the driver still sends the lane's statements inside the transaction
# (pymongo's session is STARTING or IN_PROGRESS until the lane commits or aborts), even
# when the server no longer has it: those statements get 251 NoSuchTransaction.
OPEN_STATES = frozenset(
    {TxnState.STARTING, TxnState.IN_PROGRESS, TxnState.SERVER_ABORTED, TxnState.EXPIRED}
)


class OpStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass
class TxnOptions:
    """The options a lane starts its transactions with."""

    read_concern: str = "snapshot"  # "", local, majority, snapshot
    write_concern: str = "majority"  # "", 1, majority
    read_preference: str = "primary"
    max_commit_time_ms: int | None = None

    def describe(self) -> str:
        parts = [
            f"rc:{self.read_concern or 'default'}",
            f"wc:{self.write_concern or 'default'}",
            f"rp:{self.read_preference}",
        ]
        if self.max_commit_time_ms:
            parts.append(f"maxCommit:{self.max_commit_time_ms}ms")
        return " ".join(parts)

    def driver_args(self) -> list[tuple[str, str, Any]]:
        """The options as pymongo's start_transaction / with_transaction take them:
        (keyword, pymongo class or "" for a plain value, argument). One table, read by the
        backend (which makes the pymongo objects) and by the export (which writes them as
        code). The read preference is always given, primary included: a transaction reads
        from the primary whatever read preference the client's URI names."""
        out: list[tuple[str, str, Any]] = []
        if self.read_concern:
            out.append(("read_concern", "ReadConcern", self.read_concern))
        if self.write_concern:
            wc = self.write_concern
            out.append(
                ("write_concern", "WriteConcern", int(wc) if wc.isascii() and wc.isdigit() else wc)
            )
        mode = READ_PREFERENCES.get(self.read_preference, "PRIMARY")
        out.append(("read_preference", "ReadPreference", mode))
        if self.max_commit_time_ms:
            out.append(("max_commit_time_ms", "", int(self.max_commit_time_ms)))
        return out


@dataclass
class LaneOptions:
    """How a lane's session is made: its session options and its client's retryWrites.

    `snapshot`: every read of the session reads at one cluster time, the one the server
    picks for the first read (pymongo's snapshot sessions; they take no transactions and
    no causal consistency). `retry_writes` off: the lane gets a client of its own with
    retryWrites=false, so a retryable error reaches the lane instead of the driver's retry.
    """

    causal_consistency: bool = True
    snapshot: bool = False
    retry_writes: bool = True

    @property
    def is_default(self) -> bool:
        return self == LaneOptions()

    def session_args(self) -> dict[str, bool]:
        """start_session's keywords: the one table the backend starts the lane's session
        with and the export writes. A snapshot session gets no causal_consistency
        (pymongo refuses both at once, and a snapshot session's default is off)."""
        if self.snapshot:
            return {"snapshot": True}
        return {} if self.causal_consistency else {"causal_consistency": False}

    def client_args(self) -> dict[str, bool]:
        """The client options the lane needs that the workbench's client does not have."""
        return {} if self.retry_writes else {"retryWrites": False}

    def describe(self) -> str:
        parts = []
        if self.snapshot:
            parts.append("snapshot")
        elif not self.causal_consistency:
            parts.append("causal off")
        if not self.retry_writes:
            parts.append("retryWrites off")
        return " · ".join(parts)


# Read preference modes as the options name them → pymongo's ReadPreference attributes.
READ_PREFERENCES = {
    "primary": "PRIMARY",
    "primaryPreferred": "PRIMARY_PREFERRED",
    "secondary": "SECONDARY",
    "secondaryPreferred": "SECONDARY_PREFERRED",
    "nearest": "NEAREST",
}


@dataclass
class QueuedOp:
    """One item of a lane's queue: what to run, and how it went."""

    spec: OpSpec | None  # None only for a scenario step that is not an operation (see step)
    status: OpStatus = OpStatus.PENDING
    summary: str = ""
    error: ErrorInfo | None = None
    started_at: float | None = None
    duration_ms: float | None = None
    in_txn: bool | None = None  # whether it ran inside a transaction
    waiting: bool = False  # running longer than the blocked threshold
    result: Any = None
    waiting_for: str = ""  # what a waiting operation waits for, as far as it is known
    step: Any = None  # the scenario Step this item plays (a loaded scenario), else None
    check: str | None = None  # scenario: None until it ran, "" as expected, else the mismatch
    # The server rolled its write back after a failover: on which member, what (model.rollbacks)
    rolled_back: str = ""

    def begin(self, now: float, in_txn: bool) -> None:
        """It is sent now (inside the lane's transaction or not)."""
        self.status = OpStatus.RUNNING
        self.started_at = now
        self.in_txn = in_txn
        self.error = None

    def end(self, error: ErrorInfo | None, result: Any, summary: str, ms: float | None) -> None:
        """Its reply came (or its error): done or failed, with what it returned."""
        self.status = OpStatus.DONE if error is None else OpStatus.FAILED
        self.error = error
        self.result = result
        self.summary = summary
        self.duration_ms = ms
        self.waiting = False

    def label(self, width: int = 60, collection: bool = True) -> str:
        if self.spec is not None:
            return self.spec.label(width, collection=collection)
        text = str(self.step.label()) if self.step is not None else "?"
        return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class Lane:
    """A session lane: its session, transaction state, options, queue and view."""

    id: int
    name: str
    colour: str
    queue: list[QueuedOp] = field(default_factory=list)
    lsid: str = ""  # hex of the session id, filled when the session exists
    txn_number: int | None = None  # the number of the current / last transaction
    txn_state: TxnState = TxnState.NONE
    txn_options: TxnOptions = field(default_factory=TxnOptions)
    options: LaneOptions = field(default_factory=LaneOptions)
    # The session's causal clock after its last step (pymongo's session.operation_time
    # and cluster_time), and a snapshot session's read time (from the server's reply).
    operation_time: Any = None
    cluster_time: Any = None
    snapshot_time: Any = None
    txn_opened_at: float | None = None  # first statement sent (server starts its clock)
    txn_ended_at: float | None = None
    server_aborted: ErrorInfo | None = None  # the server aborted the open transaction
    state_note: str = ""  # why the state is what it is (the reply that moved it)
    lifetime_note: str = ""  # past the lifetime limit: what the server said (or can't say)
    lsid_note: str = ""  # the session came from pymongo's pool: what that means here
    # A sharded cluster: the transaction's participants as the shards' $currentOp last
    # listed them (backend/sharding.py), and what its commit did to them
    shards: str = ""
    view_base: dict[str, dict[str, Any]] | None = None  # committed versions of the view's ids
    last_error: ErrorInfo | None = None
    busy: str = ""  # what runs now ("" when idle)
    session_ended: bool = False
    view: list[dict[str, Any]] | None = None  # what the session reads inside its txn
    view_note: str = ""

    @property
    def next_pending(self) -> QueuedOp | None:
        """The next operation the user queued (a loaded scenario's steps run with n)."""
        for item in self.queue:
            if item.status is OpStatus.PENDING and item.step is None:
                return item
        return None

    @property
    def in_txn(self) -> bool:
        """The driver still runs this lane's statements inside its transaction."""
        return self.txn_state in OPEN_STATES

    @property
    def txn_live(self) -> bool:
        """The server has the transaction open, as far as its replies tell."""
        return self.txn_state is TxnState.IN_PROGRESS

    # -- transitions: each one follows a reply (or the lack of one: nothing sent) --------
    def session_started(self) -> None:
        """A new session (pymongo's, maybe pooled): no transaction on it yet."""
        self.session_ended = False
        self.txn_state = TxnState.NONE
        self.state_note = ""
        self.operation_time = self.cluster_time = self.snapshot_time = None

    def session_ended_by(self, now: float | None, why: str) -> None:
        """Its session ended (endSessions, or the client closed with a switch of
        deployment): the server aborts an open transaction then. `now` None: the session
        was not ended by us (the lane moves to another deployment with no session)."""
        if self.in_txn:
            self.txn_state = TxnState.ABORTED
            if now is not None:
                self.txn_ended_at = now
            self.state_note = why
        self.view = None
        self.view_base = None

    def to_starting(self) -> None:
        self.txn_state = TxnState.STARTING
        self.txn_opened_at = None
        self.txn_ended_at = None
        self.server_aborted = None
        self.state_note = ""
        self.lifetime_note = ""
        self.last_error = None
        self.view = None
        self.view_base = None
        self.shards = ""

    def to_in_progress(self, now: float) -> None:
        """The first statement was sent: the server opens the snapshot and its clock."""
        if self.txn_state is TxnState.STARTING:
            self.txn_state = TxnState.IN_PROGRESS
            self.txn_opened_at = now

    def amend_error(self, old: ErrorInfo, new: ErrorInfo) -> None:
        """The same reply, told more fully (a WriteConflict's holder): wherever the lane
        keeps `old`, it keeps `new`."""
        if self.last_error is old:
            self.last_error = new
        if self.server_aborted is old:
            self.server_aborted = new
        for item in self.queue:
            if item.error is old:
                item.error = new

    def to_server_aborted(self, err: ErrorInfo, now: float) -> None:
        """A statement failed and the server aborted the transaction."""
        if self.txn_state in (TxnState.STARTING, TxnState.IN_PROGRESS):
            self.txn_state = TxnState.SERVER_ABORTED
            self.server_aborted = err
            self.txn_ended_at = now
            self.state_note = f"after {err.headline}: abort (x), then retry"
            self.view = None
            self.view_base = None

    def to_expired(self, now: float, limit_s: float | None) -> None:
        """Past the lifetime limit, and the server no longer has the transaction."""
        if self.txn_state is TxnState.IN_PROGRESS:
            self.txn_state = TxnState.EXPIRED
            self.txn_ended_at = now
            limit = f"{limit_s:g} s " if limit_s is not None else ""
            self.state_note = f"past its {limit}lifetime limit: abort (x), then retry"
            self.lifetime_note = ""
            self.view = None
            self.view_base = None

    def after_commit(self, was: TxnState, err: ErrorInfo | None, now: float) -> str:
        """Apply a commit's reply; returns the outcome as the timeline shows it.

        Only the reply decides: ok → committed; an UnknownTransactionCommitResult label →
        commit unknown (retry the commit); a write concern error → committed on the
        primary, the write concern not satisfied; any other server error → aborted with
        the reason (the server has no transaction to commit: 251, 112, …).
        """
        self.last_error = err
        if err is not None and err.client_side and not err.labels:
            return err.one_line()  # refused by the driver: nothing was sent
        self.txn_ended_at = now
        self.lifetime_note = ""
        self.view = None
        self.view_base = None
        if err is None:
            self.txn_state = TxnState.COMMITTED
            if was is TxnState.STARTING:
                self.state_note = "empty: nothing was sent"
                return "committed (empty: nothing was sent)"
            if was is TxnState.COMMITTED:
                self.state_note = (
                    "already committed: the driver re-sends commitTransaction, "
                    "which MongoDB answers ok"
                )
                return self.state_note
            if was is TxnState.COMMIT_UNKNOWN:
                self.state_note = "the retried commit settled it: committed"
                return "committed (the retry settled the unknown result)"
            self.state_note = ""
            return "committed"
        if UNKNOWN_COMMIT in err.labels:
            self.txn_state = TxnState.COMMIT_UNKNOWN
            self.state_note = f"{err.headline}: it may or may not be applied; retry the commit (c)"
            return err.one_line()
        if err.write_concern:
            self.txn_state = TxnState.COMMITTED
            self.state_note = (
                f"committed on the primary; write concern not satisfied: {err.headline}"
            )
            return f"committed; write concern error {err.one_line()}"
        self.txn_state = TxnState.ABORTED
        self.state_note = f"commit failed with {err.headline}: nothing was committed"
        if was is TxnState.SERVER_ABORTED and self.server_aborted is not None:
            self.state_note += f" (the server had aborted it after {self.server_aborted.headline})"
        elif was is TxnState.EXPIRED:
            self.state_note += " (the server had aborted it at its lifetime limit)"
        if self.server_aborted is None:
            self.server_aborted = err
        return err.one_line()

    def after_abort(self, was: TxnState, err: ErrorInfo | None, now: float) -> str:
        """Apply an abort: pymongo sends abortTransaction and ignores its errors (the
        transactions spec says so), so only a refusal by the driver keeps the state."""
        self.last_error = err
        if err is not None:
            return err.one_line()
        self.txn_state = TxnState.ABORTED
        if was in (TxnState.STARTING, TxnState.IN_PROGRESS) or self.txn_ended_at is None:
            self.txn_ended_at = now
        self.lifetime_note = ""
        self.view = None
        self.view_base = None
        if was is TxnState.STARTING:
            self.state_note = "by you; nothing had been sent"
            return "aborted (nothing was sent)"
        if was in (TxnState.SERVER_ABORTED, TxnState.EXPIRED):
            self.state_note = "by you, after the server had aborted it"
            return "aborted (the server had already aborted it)"
        self.state_note = "by you"
        return "aborted"

    def time_open(self, now: float) -> float | None:
        if self.txn_opened_at is None:
            return None
        end = self.txn_ended_at if self.txn_ended_at is not None else now
        return max(0.0, end - self.txn_opened_at)

    def time_left(self, now: float, lifetime_s: float | None) -> float | None:
        if self.txn_state is not TxnState.IN_PROGRESS or self.txn_opened_at is None:
            return None
        if lifetime_s is None:
            return None
        return max(0.0, lifetime_s - (now - self.txn_opened_at))


def _committed_by_id(
    committed: list[dict[str, Any]], base: dict[str, dict[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """The committed version of each _id the lane can compare with: those the session's
    view read outside its transaction (`base`), and the committed panel's page (newer)."""
    from .literals import format_value

    out = dict(base or {})
    out.update({format_value(d.get("_id")): d for d in committed})
    return out


def diff_marks(
    committed: list[dict[str, Any]],
    view: list[dict[str, Any]],
    base: dict[str, dict[str, Any]] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Mark each document of a lane's view against the committed version of the same _id.

    `committed` is the committed panel's page; `base` the committed versions of the view's
    other documents (Lane.view_base), so a document off the page is compared with its own
    committed version, not called inserted. Returns (mark, doc) in _id order of
    appearance: " " same, "~" changed, "+" inserted (no committed version), "-" deleted (a
    document of the page the transaction no longer sees).
    """
    from .literals import format_value

    def key(doc: dict[str, Any]) -> str:
        return format_value(doc.get("_id"))

    known = _committed_by_id(committed, base)
    seen: set[str] = set()
    out: list[tuple[str, dict[str, Any]]] = []
    for doc in view:
        k = key(doc)
        seen.add(k)
        if k not in known:
            out.append(("+", doc))
        elif format_value(known[k]) != format_value(doc):
            out.append(("~", doc))
        else:
            out.append((" ", doc))
    for doc in committed:
        if key(doc) not in seen:
            out.append(("-", doc))
    return out


@dataclass(frozen=True)
class ViewDoc:
    """One document of a lane's view with both sides of the comparison."""

    mark: str  # as diff_marks: " " same, "~" changed, "+" inserted, "-" deleted
    session: dict[str, Any] | None  # what the session reads (None: deleted in its txn)
    committed: dict[str, Any] | None  # the committed version (None: inserted by the txn)

    @property
    def doc(self) -> dict[str, Any]:
        """The version to show first: the session's, or the committed one it deleted."""
        shown = self.session if self.session is not None else self.committed
        assert shown is not None
        return shown


def view_docs(
    committed: list[dict[str, Any]],
    view: list[dict[str, Any]],
    base: dict[str, dict[str, Any]] | None = None,
) -> list[ViewDoc]:
    """A lane's view as ViewDocs, in diff_marks order."""
    from .literals import format_value

    known = _committed_by_id(committed, base)
    out: list[ViewDoc] = []
    for mark, doc in diff_marks(committed, view, base):
        if mark == "-":
            out.append(ViewDoc(mark, None, doc))
        else:
            out.append(ViewDoc(mark, doc, known.get(format_value(doc.get("_id")))))
    return out

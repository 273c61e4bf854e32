"""A lane: one client session, its transaction state and its queue of operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import ErrorInfo
from .ops import OpSpec

LANE_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LANE_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")
MAX_LANES = 8


class TxnState(StrEnum):
    NONE = "no transaction"
    STARTING = "starting"
    IN_PROGRESS = "in progress"
    COMMITTED = "committed"
    ABORTED = "aborted"


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
    step: Any = None  # the scenario Step this item plays (a loaded scenario), else None
    check: str | None = None  # scenario: None until it ran, "" as expected, else the mismatch

    @property
    def editable(self) -> bool:
        """An operation the editor can open (not a scenario's startTransaction, commit...)."""
        return self.spec is not None

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
    txn_opened_at: float | None = None  # first statement sent (server starts its clock)
    txn_ended_at: float | None = None
    server_aborted: ErrorInfo | None = None  # the server aborted the open transaction
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
        return self.txn_state in (TxnState.STARTING, TxnState.IN_PROGRESS)

    def time_open(self, now: float) -> float | None:
        if self.txn_opened_at is None:
            return None
        end = self.txn_ended_at if self.txn_ended_at is not None else now
        return max(0.0, end - self.txn_opened_at)

    def time_left(self, now: float, lifetime_s: float) -> float | None:
        if self.txn_state is not TxnState.IN_PROGRESS or self.txn_opened_at is None:
            return None
        if self.server_aborted is not None:
            return None
        return max(0.0, lifetime_s - (now - self.txn_opened_at))


def diff_marks(
    committed: list[dict[str, Any]], view: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """Mark each document of a lane's view against the committed state.

    Returns (mark, doc) in _id order of appearance: " " same, "~" changed, "+" inserted
    (only in the view), "-" deleted (only in the committed state).
    """
    from .literals import format_value

    def key(doc: dict[str, Any]) -> str:
        return format_value(doc.get("_id"))

    base = {key(d): d for d in committed}
    seen: set[str] = set()
    out: list[tuple[str, dict[str, Any]]] = []
    for doc in view:
        k = key(doc)
        seen.add(k)
        if k not in base:
            out.append(("+", doc))
        elif format_value(base[k]) != format_value(doc):
            out.append(("~", doc))
        else:
            out.append((" ", doc))
    for k, doc in base.items():
        if k not in seen:
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


def view_docs(committed: list[dict[str, Any]], view: list[dict[str, Any]]) -> list[ViewDoc]:
    """A lane's view as ViewDocs, in diff_marks order."""
    from .literals import format_value

    base = {format_value(d.get("_id")): d for d in committed}
    out: list[ViewDoc] = []
    for mark, doc in diff_marks(committed, view):
        if mark == "-":
            out.append(ViewDoc(mark, None, doc))
        else:
            out.append(ViewDoc(mark, doc, base.get(format_value(doc.get("_id")))))
    return out

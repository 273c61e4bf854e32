"""Everything about one step of a lane, for the timeline's details (Enter on a row): what
was sent and answered, and the lane before and after it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .changes import doc_diffs

if TYPE_CHECKING:
    from .error_info import ErrorInfo
    from .lanes import Lane
    from .monitor import CommandRecord


@dataclass(frozen=True)
class LaneMoment:
    """A lane as the server's replies had left it at one moment."""

    state: str  # its transaction state (TxnState's words)
    txn_number: int | None
    lsid: str
    note: str  # what the reply that set the state said
    docs: tuple[dict[str, Any], ...] | None  # what its transaction read (None: no view)
    changed: tuple[str, ...]  # those documents against the committed ones

    def describe(self) -> str:
        txn = f" · txn {self.txn_number}" if self.txn_number is not None else ""
        lsid = f" · lsid {self.lsid[:8]}…" if self.lsid else ""
        note = f" · {self.note}" if self.note else ""
        return f"{self.state}{txn}{lsid}{note}"


def lane_moment(lane: Lane, committed: list[dict[str, Any]]) -> LaneMoment:
    """The lane now; its view compared with the committed page."""
    from .lanes import view_docs

    view = tuple(lane.view) if lane.view is not None else None
    changed: list[str] = []
    if view is not None:
        for doc in view_docs(committed, list(view), lane.view_base):
            if doc.mark != " ":
                was = [doc.committed] if doc.committed is not None else []
                now = [doc.session] if doc.session is not None else []
                changed += doc_diffs(was, now)
    return LaneMoment(
        lane.txn_state.value, lane.txn_number, lane.lsid, lane.state_note, view, tuple(changed)
    )


@dataclass
class StepDetail:
    """One step: the operation as typed, its options, the commands the driver sent and the
    server's replies, the outcome, and the lane before and after (`after` is filled once
    the reads that follow the step are done)."""

    lane: str
    action: str
    operation: dict[str, str] = field(default_factory=dict)  # the fields as typed
    options: str = ""  # the transaction's options (read/write concern, read preference)
    commands: list[CommandRecord] = field(default_factory=list)
    result: Any = None
    error: ErrorInfo | None = None
    summary: str = ""
    duration_ms: float | None = None
    before: LaneMoment | None = None
    after: LaneMoment | None = None

    def touched(self) -> list[str]:
        """The documents this step changed as its transaction sees them (its view before
        and after), else the ids the server's reply names."""
        before, after = self.before, self.after
        if after is not None and after.docs is not None:
            was = list(before.docs) if before is not None and before.docs is not None else None
            if was is None and before is not None:
                # the first statement: the snapshot starts from the committed documents
                return list(after.changed)
            return doc_diffs(was or [], list(after.docs))
        return reply_ids(self.result)


def reply_ids(result: Any) -> list[str]:
    """The _ids a plain result names: inserted, upserted, found, returned."""
    from .literals import format_short

    out: list[str] = []
    if isinstance(result, dict):
        for key in ("insertedId", "upsertedId"):
            if result.get(key) is not None:
                out.append(f"{key} {format_short(result[key])}")
        for value in result.get("insertedIds") or []:
            out.append(f"insertedId {format_short(value)}")
        if isinstance(result.get("_id"), str | int):  # findOneAnd… returns the document
            out.append(f"returned {format_short(result['_id'])}")
    elif isinstance(result, list):
        out += [
            f"read {format_short(d['_id'])}" for d in result if isinstance(d, dict) and "_id" in d
        ]
    return out

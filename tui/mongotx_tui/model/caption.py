"""Presenter mode's caption: one sentence for the room about the step that just ran.

Built from a timeline row and, for a failed step, the error the server answered (the
lane's ErrorInfo); a scenario step's own note comes first when it has one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .error_info import TRANSIENT, UNKNOWN_COMMIT, ErrorInfo
from .timeline import EventKind, TimelineEvent

# A scenario step's row starts with its number: `4. update {_id: 1} … (txn)`.
STEP_NUMBER = re.compile(r"^(\d+)\.\s+")

# The verbs the workbench's transaction rows start with, as a person says them.
VERBS = {
    "startTransaction": "start",
    "commitTransaction": "commit",
    "abortTransaction": "abort",
    "endSession": "end session",
}


@dataclass(frozen=True)
class Caption:
    """The banner's text: the headline, an optional second line, and whether it failed."""

    text: str
    detail: str = ""
    ok: bool = True


def step_number(what: str) -> int | None:
    """The scenario step a timeline row plays, from its `N. ` prefix (None: not a step)."""
    found = STEP_NUMBER.match(what)
    return int(found.group(1)) if found else None


def verb(what: str) -> str:
    """The statement's name from a row's `what`: `update {_id: 1} (txn 2)` → `update`."""
    words = STEP_NUMBER.sub("", what).split()
    first = words[0] if words else "step"
    return VERBS.get(first, first)


def short_advice(error: ErrorInfo) -> str:
    """What to do, as a clause: the labels decide first, as the drivers' transactions
    spec says (a TransientTransactionError: retry the whole transaction; an
    UnknownTransactionCommitResult: retry the commit), then what the server did to the
    transaction, otherwise ErrorInfo's advice up to its first colon or full stop."""
    if UNKNOWN_COMMIT in error.labels:
        return "retry the commit"
    if TRANSIENT in error.labels:
        return "retry the whole transaction"
    if error.txn_aborted:  # error_info.ABORTED_ADVICE, without the keys
        return "fix the operation or the data, then run the transaction again"
    if error.txn_aborted is False:  # error_info.KEPT_OPEN_ADVICE
        return "the transaction stays open: change the operation, or commit or abort"
    head = re.split(r"[:.]", error.advice, maxsplit=1)[0].strip()
    return head[:1].lower() + head[1:]


def _failure(lane: str, action: str, error: ErrorInfo) -> str:
    name = error.code_name or "error"
    if error.code == 112:  # WriteConflict: who holds the document, as the workbench knows it
        if error.conflict_holder:
            whom = f"{error.conflict_holder}'s open transaction"
        else:
            whom = "a write its transaction cannot see (committed after its snapshot, or by another client)"
        return f"{lane}'s {action} conflicted with {whom}: {name}, {short_advice(error)}"
    text = f"{lane}'s {action} failed: {name}"
    if error.txn_aborted:
        text += ", and the server aborted the transaction"
    return f"{text}; {short_advice(error)}"


def caption(event: TimelineEvent, error: ErrorInfo | None = None, note: str = "") -> Caption:
    """The caption of a timeline row. `error`: the server's error for a failed row (or the
    driver's), when known; `note`: the scenario step's own text."""
    lane = event.lane or "the workbench"
    what = STEP_NUMBER.sub("", event.what)
    if event.kind is EventKind.CHANGE:
        text = f"The server's change stream: {what} {event.outcome}".rstrip()
    elif event.kind is EventKind.INFO:
        text = f"{what}: {event.outcome}" if event.outcome else what
    elif not event.ok and error is not None:
        text = _failure(lane, verb(event.what), error)
    elif not event.ok:
        text = f"{lane}'s {verb(event.what)} failed: {event.outcome}"
    else:
        text = f"{lane}: {what} → {event.outcome}" if event.outcome else f"{lane}: {what}"
    number = step_number(event.what)
    if note:
        head = f"Step {number} · {note}" if number is not None else note
        return Caption(head, text, event.ok)
    if number is not None:
        text = f"Step {number} · {text}"
    return Caption(text, "", event.ok)

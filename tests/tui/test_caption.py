"""Presenter mode's caption, from a timeline row and the server's error (model/caption.py,
pure: no app needed). The app-level test with real replies is in test_presenter.py."""

from __future__ import annotations

from mongotx_tui.model.caption import caption, short_advice
from mongotx_tui.model.error_info import TRANSIENT, UNKNOWN_COMMIT, ErrorInfo
from mongotx_tui.model.timeline import EventKind, TimelineEvent


def row(lane: str, what: str, outcome: str, ok: bool = True, kind=EventKind.OP):
    return TimelineEvent(1, 0.0, lane, kind, what, outcome, ok)


def test_write_conflict_without_a_known_holder_says_so():
    error = ErrorInfo(112, "WriteConflict", "…", (TRANSIENT,))
    cap = caption(row("B", "update {_id: 1} (txn 1)", "112 WriteConflict", False), error)
    assert cap.text == (
        "B's update conflicted with a write its transaction cannot see (committed after "
        "its snapshot, or by another client): WriteConflict, retry the whole transaction"
    )
    assert not cap.ok


def test_labels_decide_the_advice_first():
    assert short_advice(ErrorInfo(50, "MaxTimeMSExpired", "", (UNKNOWN_COMMIT,))) == (
        "retry the commit"
    )
    duplicate = ErrorInfo(11000, "DuplicateKey", "", (), txn_aborted=True)
    cap = caption(row("A", "insert {_id: 1} (txn 2)", "11000 DuplicateKey", False), duplicate)
    assert cap.text == (
        "A's insert failed: DuplicateKey, and the server aborted the transaction; "
        "fix the operation or the data, then run the transaction again"
    )
    nothing = ErrorInfo(2, "BadValue", "", ())
    assert short_advice(nothing) == "do not retry"  # ErrorInfo's advice, its first clause


def test_a_scenario_steps_note_leads_and_the_outcome_follows():
    event = row("B", "7. startTransaction", "rc:snapshot", kind=EventKind.TXN)
    cap = caption(event, None, "The retry starts a new transaction.")
    assert cap.text == "Step 7 · The retry starts a new transaction."
    assert cap.detail == "B: startTransaction → rc:snapshot"


def test_a_commit_row():
    cap = caption(row("A", "commitTransaction txn 1", "committed", kind=EventKind.TXN))
    assert cap.text == "A: commitTransaction txn 1 → committed"

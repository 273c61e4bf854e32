"""The workbench's history (model.history) fed from its one step pipeline, the anomalies
named on the timeline as the transaction that closes a cycle commits (or as the one whose
WriteConflict prevented it ends), and the history drawn as a diagram."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..model.anomalies import Finding, analyse
from ..model.history import History
from ..model.timeline import EventKind, TimelineEvent
from .history_feed import step_of

if TYPE_CHECKING:
    from ..model.diagram import Story
    from ..model.lanes import Lane, QueuedOp
    from ..scenario.definition import Step
    from .steps import Outcome

_WAITED_FOR = re.compile(r"^lane (.+?)'s open transaction")
ENDS = frozenset({"commit", "abort", "endSession", "startTransaction"})


class AnomalyWatch:
    """One workbench's history and the findings it has put on the timeline."""

    def __init__(self) -> None:
        self.history = History()
        self.reported: set[Any] = set()

    def record(
        self,
        step: Step,
        lane: Lane | None,
        item: QueuedOp | None,
        out: Outcome,
        event: TimelineEvent,
        outside: bool,
    ) -> list[Finding]:
        """Record a finished step; return the findings it brings (new ones only)."""
        if lane is None:
            return []
        action = str(step.action)
        in_txn = bool(item is not None and item.spec is not None and item.in_txn and not outside)
        waited_for = ""
        waited = bool(item is not None and item.spec is not None and item.waiting_for)
        if waited and item is not None:
            found = _WAITED_FOR.match(item.waiting_for)
            waited_for = found.group(1) if found else ""
        row = self.history.record(
            step_of(
                lane.name,
                action,
                step.spec,
                out,
                what=event.what,
                in_txn=in_txn,
                number=lane.txn_number,
                waited=waited,
                waited_for=waited_for,
            )
        )
        if action not in ENDS and not (out.error is not None or not in_txn):
            return []  # only an end (or an autocommit write, or an error) can close a cycle
        txn = self.history.txn(row.txn_id) if row.txn_id else None
        through = {txn.id} if txn is not None and txn.status == "committed" else set()
        new = [f for f in analyse(self.history, through) if f.ident not in self.reported]
        self.reported.update(f.ident for f in new)
        return new

    @staticmethod
    def row(finding: Finding) -> tuple[str, EventKind, str, str, bool]:
        """A finding as a timeline row: (lane, kind, what, outcome, ok)."""
        if finding.prevented_by:
            return "", EventKind.INFO, f"prevented {finding.phenomenon}", finding.short(), True
        return "", EventKind.INFO, f"anomaly {finding.phenomenon}", finding.short(), False

    def story(self, title: str, lanes: list[str], final: dict[str, list[dict[str, Any]]]) -> Story:
        from ..model.diagram import story

        return story(self.history, analyse(self.history), title=title, lanes=lanes, final=final)


__all__ = ["AnomalyWatch"]

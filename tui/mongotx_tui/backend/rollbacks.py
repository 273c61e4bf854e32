"""Show a failover's rolled-back writes on the lane steps that made them (issue 13): the
lists the server gives (the members panel's sandboxMember status, or a step's own
sandboxMember reply) matched to the steps by model.rollbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..model.events import Changed, Notify
from ..model.lanes import Lane
from ..model.rollbacks import RollbackMarks
from ..model.timeline import EventKind, Timeline


class Bench(Protocol):
    """What of the Workbench this needs (it imports this module: no import back)."""

    monitor: Any
    lanes: list[Lane]
    timeline: Timeline
    clock: Callable[[], float]
    notify: Notify

    @property
    def rollback_marks(self) -> RollbackMarks: ...


def from_records(records: list[Any]) -> list[dict[str, Any]]:
    """The rolled-back writes listed in the replies of a step's commands (a sandboxMember
    command run as a step answers `rolledBack`)."""
    out: list[dict[str, Any]] = []
    for record in records:
        listed = (record.reply or {}).get("rolledBack")
        if isinstance(listed, list):
            out.extend(e for e in listed if isinstance(e, dict))
    return out


def show(wb: Bench, rolled_back: list[dict[str, Any]]) -> bool:
    """Mark each lane step whose write is in `rolled_back` (once), with a timeline row;
    True when one was marked."""
    if not rolled_back or wb.monitor is None:
        return False
    marked = wb.rollback_marks.find(rolled_back, wb.monitor.log)
    for found in marked:
        lane = next((lane for lane in wb.lanes if lane.id == found.lane_id), None)
        item = found.item
        item.rolled_back = found.text
        name = lane.name if lane is not None else "?"
        where = "txn" if item.in_txn else "outside txn"
        what = f"{item.label(60, collection=False)} ({where})"
        wb.timeline.add(wb.clock(), name, EventKind.OP, what, found.text, False)
        wb.notify(Changed.TIMELINE, None)
        if lane is not None:
            wb.notify(Changed.LANE, lane.id)
    return bool(marked)

"""What the backend tells the UI changed: the UI redraws that part (coalesced per frame)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class Changed(StrEnum):
    """A part of the workbench whose state changed. LANE and LANES carry a lane id (LANES:
    or None when several changed); the others carry None."""

    LANE = "lane"  # one lane's state, queue or view
    LANES = "lanes"  # lanes added, removed, renamed or replaced
    COMMITTED = "committed"  # the committed page, its count or the watch mode
    TIMELINE = "timeline"  # rows added
    CONNECTION = "connection"  # the deployment
    SCENARIO = "scenario"  # the loaded scenario and its progress
    MONITOR = "monitor"  # commands sent or answered (the command monitor)
    FAULTS = "faults"  # the fail point the workbench set, or the server's refusal
    MEMBERS = "members"  # the replica set's members as replSetGetStatus last described them


Notify = Callable[[Changed, int | None], None]

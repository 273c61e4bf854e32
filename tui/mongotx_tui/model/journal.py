"""The journal: every step the workbench ran, in the order it started, with its outcome.

Saving the workbench as a scenario (and the autosaved drafts) reads it: lanes become
sessions, entries become steps, and each outcome becomes the step's expectation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .error_info import ErrorInfo
from .lanes import TxnOptions
from .ops import OpSpec


@dataclass
class Played:
    """One step as it ran (in start order), for saving the workbench as a scenario."""

    seq: int  # start order, 1-based
    session: str  # lane name ("" for sleep / failPoint)
    action: str  # an OpKind value, startTransaction, commit, abort, endSession, sleep, ...
    spec: OpSpec | None = None  # operations
    txn: TxnOptions | None = None  # startTransaction / withTransaction
    ops: list[OpSpec] = field(default_factory=list)  # withTransaction
    seconds: float = 0.0  # sleep
    failpoint: dict[str, Any] = field(default_factory=dict)  # failPoint {mode, data}
    outside: bool = False  # ran with no session
    note: str = ""
    done: bool = False
    error: ErrorInfo | None = None
    result: Any = None  # what pymongo returned (normalized when saved)
    overlapped_by: int = 0  # the last seq started before this one finished (blocked steps)


class Journal:
    def __init__(self) -> None:
        self.entries: list[Played] = []
        self.version = 0  # bumps on every change (autosave compares it)

    def start(self, session: str, action: str, **fields: Any) -> Played:
        entry = Played(len(self.entries) + 1, session, action, **fields)
        self.entries.append(entry)
        self.version += 1
        return entry

    def finish(self, entry: Played, error: ErrorInfo | None = None, result: Any = None) -> None:
        entry.done = True
        entry.error = error
        entry.result = result
        entry.overlapped_by = len(self.entries)
        self.version += 1

    def rename(self, old: str, new: str, outside_suffix: str = "-out") -> None:
        """A lane was renamed: its steps (and those it ran outside a session) follow it."""
        for entry in self.entries:
            if entry.session == old:
                entry.session = new
            elif entry.session == old + outside_suffix:
                entry.session = new + outside_suffix
        self.version += 1

    def clear(self) -> None:
        self.entries = []
        self.version += 1

    def __len__(self) -> int:
        return len(self.entries)

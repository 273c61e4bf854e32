"""The timeline: every step of every lane, commits, aborts and change events, in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    OP = "op"
    TXN = "txn"
    CHANGE = "change"
    INFO = "info"


@dataclass(frozen=True)
class TimelineEvent:
    """One row of the timeline."""

    seq: int
    at: float  # wall clock seconds (time.time() or the injected clock)
    lane: str  # lane name, "server" for change events, "" for app events
    kind: EventKind
    what: str  # operation / action
    outcome: str  # result summary, or code codeName [labels]
    ok: bool = True
    duration_ms: float | None = None
    check: str | None = None  # a scenario step: "" as expected, else the mismatch
    detail: Any = None  # a lane's step: its model.step_detail.StepDetail (Enter shows it)


class Timeline:
    """A bounded, append-only log. Old rows fall off the front beyond `limit`."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._events: deque[TimelineEvent] = deque(maxlen=limit)
        self._seq = 0
        self.listeners: list[Callable[[TimelineEvent], None]] = []

    def add(
        self,
        at: float,
        lane: str,
        kind: EventKind,
        what: str,
        outcome: str,
        ok: bool = True,
        duration_ms: float | None = None,
        check: str | None = None,
        detail: Any = None,
    ) -> TimelineEvent:
        self._seq += 1
        event = TimelineEvent(
            self._seq, at, lane, kind, what, outcome, ok, duration_ms, check, detail
        )
        self._events.append(event)
        for listener in self.listeners:
            listener(event)
        return event

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[TimelineEvent]:
        return iter(self._events)

    def after(self, seq: int) -> list[TimelineEvent]:
        """Events newer than `seq`, oldest first, without walking the whole log."""
        out: list[TimelineEvent] = []
        for event in reversed(self._events):
            if event.seq <= seq:
                break
            out.append(event)
        out.reverse()
        return out

    @property
    def last(self) -> TimelineEvent | None:
        return self._events[-1] if self._events else None

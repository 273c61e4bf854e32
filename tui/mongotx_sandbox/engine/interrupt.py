"""Interrupt points for long engine work: maxTimeMS and killed operations.

MongoDB checks an operation's deadline and kill flag at interrupt points inside long work
(server: db/operation_context.cpp checkForInterrupt, answering 50 MaxTimeMSExpired, or
11601 Interrupted once killed). The engine calls `check()` once per document and per join
candidate; the server sets the current operation's Interrupt for the duration of a command.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

from .errors import EngineError


class Interrupt:
    """One operation's limits: a time.monotonic() deadline (None: none) and a kill flag."""

    __slots__ = ("deadline", "killed")

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.killed = False

    def check(self) -> None:
        if self.killed:
            raise EngineError(11601, "Interrupted", "operation was interrupted")
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise EngineError(50, "MaxTimeMSExpired", "operation exceeded time limit")


CURRENT: ContextVar[Interrupt | None] = ContextVar("mongotx_interrupt", default=None)


def check() -> None:
    """Raise EngineError 50 / 11601 if the current operation is past its deadline or killed."""
    current = CURRENT.get()
    if current is not None:
        current.check()


def current() -> Interrupt | None:
    return CURRENT.get()


def enter(interrupt: Interrupt | None) -> Token[Interrupt | None]:
    """Make `interrupt` the current operation's (undo with `leave(token)`)."""
    return CURRENT.set(interrupt)


def leave(token: Token[Interrupt | None]) -> None:
    CURRENT.reset(token)

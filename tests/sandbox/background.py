"""A command run in a thread of its own, for tests where it waits on the server (a lock, a
prepared transaction, a fail point) while the test goes on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pymongo.errors import OperationFailure


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Start `target` in a thread; its outcome gets "reply" (what it returned) or "error"
    (the OperationFailure it raised)."""
    outcome: dict[str, Any] = {}

    def body() -> None:
        try:
            outcome["reply"] = target()
        except OperationFailure as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    return thread, outcome

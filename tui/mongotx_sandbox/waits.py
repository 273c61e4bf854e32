"""Waits with a deadline that never lose a cancellation (killOp, killSessions, a client
that goes, server shutdown).

Python 3.11's `asyncio.wait_for` returns the awaited result when the task is cancelled in
the same loop iteration as the awaitable completes, and the cancellation is gone (CPython
gh-86296, fixed in 3.12 by rebuilding wait_for on asyncio.timeout). `asyncio.timeout` is no
blanket cure on 3.11 either: `Task.uncancel` does not clear a pending `_must_cancel`
(CPython gh-116720, changed in 3.13). So `within` keeps wait_for and checks what it can see: each
`Task.cancel` request counts in `Task.cancelling()`, and a swallowed one leaves the count
higher than before the wait; the cancellation is then raised again. On 3.12+ wait_for never
swallows one, and the check never fires.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def within(
    awaitable: Awaitable[T],
    timeout: float | None,
    undo: Callable[[T], object] | None = None,
) -> T:
    """Await `awaitable` for at most `timeout` seconds (None: no limit); TimeoutError after.

    A cancellation always propagates. When it came as the awaitable completed, `undo` gets
    the result first, to give back what was taken (a lock acquired, say).
    """
    task = asyncio.current_task()
    requested = task.cancelling() if task is not None else 0
    result = await asyncio.wait_for(awaitable, timeout)
    if task is not None and task.cancelling() > requested:
        # gh-86296: wait_for returned the result and dropped the cancellation.
        if undo is not None:
            undo(result)
        raise asyncio.CancelledError
    return result

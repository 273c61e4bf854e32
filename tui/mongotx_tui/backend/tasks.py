"""The workbench's background tasks, held in one place so that closing cancels them all
(a refresh, a count, a lifetime watch or a blocked-operation marker must not outlive the
client it uses, nor land on a workbench that has moved to another deployment)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Tasks:
    """A set of running tasks: `spawn` starts one, `cancel_all` ends every one still
    running and waits for them (at most `timeout` seconds)."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        self._running.add(task)  # a strong reference: the loop keeps only weak ones
        task.add_done_callback(self._running.discard)
        return task

    def __len__(self) -> int:
        return len(self._running)

    def running(self) -> list[asyncio.Task[Any]]:
        """The tasks not finished yet."""
        return [t for t in self._running if not t.done()]

    async def cancel_all(self, timeout: float = 5.0) -> None:
        me = asyncio.current_task()
        tasks = [t for t in self._running if t is not me and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

"""Heavy engine work off the event loop, so one client's computation never stalls the others.

The server answers every connection on one asyncio loop. `compute` runs a pure engine call
(an aggregation pipeline) on a worker thread while the loop goes on serving other clients;
the interpreter switches threads every few milliseconds, so a ping waits milliseconds, not
the length of the computation. What makes it safe:

- the worker touches no server state: its inputs are materialised on the loop first (lists
  of committed versions, which are never changed in place, only replaced), and the engine
  copies them before changing anything;
- a callback that must read state (a $lookup's foreign collection, through `on_loop`) runs
  on the loop thread, between two of its events, as if it were an `await` of the command;
  so all state is read and written by the loop thread alone, as before;
- the command's maxTimeMS, and its cancellation (killSessions, a closed server), reach the
  worker through an engine Interrupt: the engine raises 50 MaxTimeMSExpired / 11601 at its
  next interrupt point, and a killed worker never runs a callback on the loop again.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from . import engine

T = TypeVar("T")

_WORKERS = 4  # heavy commands beyond this many wait for a worker (their deadline runs on)
# Daemon threads: a computation still running when the process exits must not hold the exit
# (a ThreadPoolExecutor's threads are joined at exit).
_jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
_threads = 0
_pool_lock = threading.Lock()
_worker = threading.local()  # .loop: the event loop the current worker's command runs on
# While a worker computes, the loop thread waits for the interpreter lock at each wake-up and
# each socket call, up to the switch interval every time (5 ms by default; a ping takes
# several): a shorter interval then keeps other clients' latency low, for a few per cent of
# the worker's speed. The previous interval comes back when no worker computes.
_SWITCH_INTERVAL = 0.0005
_running = 0
_saved_interval = 0.0


def _busy(delta: int) -> None:
    global _running, _saved_interval
    with _pool_lock:
        if _running == 0 and delta > 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved_interval, _SWITCH_INTERVAL))
        _running += delta
        if _running == 0:
            sys.setswitchinterval(_saved_interval)


def _serve_jobs() -> None:
    while True:
        _jobs.get()()


def _submit(fn: Callable[[], T]) -> Future[T]:
    """`fn()` on a worker thread; its outcome in the returned future."""
    global _threads
    future: Future[T] = Future()

    def job() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to the awaiting command
            future.set_exception(exc)

    with _pool_lock:
        if _threads < _WORKERS:
            _threads += 1
            name = f"mongotx-compute-{_threads}"
            threading.Thread(target=_serve_jobs, name=name, daemon=True).start()
    _jobs.put(job)
    return future


async def compute(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on a worker thread, under the command's deadline."""
    loop = asyncio.get_running_loop()
    parent = engine.interrupt.current()
    interrupt = engine.Interrupt(parent.deadline if parent is not None else None)
    context = contextvars.copy_context()  # the command's collation and other context

    def work() -> T:
        _worker.loop = loop
        token = engine.interrupt.enter(interrupt)
        _busy(1)
        try:
            interrupt.check()  # it may have waited for a worker past its deadline
            return fn(*args, **kwargs)
        finally:
            _busy(-1)
            engine.interrupt.leave(token)
            _worker.loop = None

    future = asyncio.wrap_future(_submit(lambda: context.run(work)))
    try:
        return await future
    except asyncio.CancelledError:
        # The command is gone (killed, or the server stops): stop the worker at its next
        # interrupt point; it reads nothing more from the server meanwhile (on_loop).
        interrupt.killed = True
        raise


def on_loop(fn: Callable[[], T]) -> T:
    """`fn()` on the event loop thread: for callbacks that read server state. Called on the
    loop thread itself (no compute around it), it simply runs `fn`."""
    loop = getattr(_worker, "loop", None)
    if loop is None:
        return fn()
    interrupt = engine.interrupt.current()
    done: Future[T] = Future()

    def run() -> None:
        try:
            if interrupt is not None:
                interrupt.check()  # killed or past its deadline: it reads nothing more
            done.set_result(fn())
        except BaseException as exc:  # handed to the worker, which raises it
            done.set_exception(exc)

    loop.call_soon_threadsafe(run)
    while True:
        try:
            return done.result(timeout=0.05)
        except TimeoutError:
            engine.interrupt.check()  # killed or past the deadline while the loop was busy

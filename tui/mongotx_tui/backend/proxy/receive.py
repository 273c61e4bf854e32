"""The parent's side of the forwarding process (child.py): a thread reads the batches it
ships and does what feed.Feed does in one process (records, observers, flush), in the
order the frames were forwarded. Each connection has a shadow here holding what the
Recorder keeps of it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import IO, Any

from ...model.proxy_records import ConnectionNotice
from . import ship
from .observe import Observers, Recorder

LOST = (
    "the proxy's forwarding process ended unexpectedly (exit status {status}): "
    "its connections are gone"
)


NICE = 10  # the observation thread's nice value (0 is the default, 19 the lowest)


def stamp(at: float) -> float:
    """A frame's arrival as the parent uses it. perf_counter is CLOCK_MONOTONIC on Linux,
    one clock for both processes, so the child's stamp is used as it is (a seam for tests
    that freeze the clocks)."""
    return at


def _yield_cores() -> None:
    """Lower this thread's priority (Linux: a thread's own nice value): on a busy machine
    the decoding waits for a free core rather than take one from the forwarding, which
    an application's every round trip waits for. Observers hear a moment later."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    except (OSError, AttributeError):
        pass  # not permitted, or not Linux: the same priority as the rest


class Shadow:
    """What the Recorder reads and writes of a connection (forward.Conn's observation
    half)."""

    __slots__ = ("app_name", "conn_id", "peer", "pending", "received")

    def __init__(self, conn_id: int, peer: str) -> None:
        self.conn_id = conn_id
        self.peer = peer
        self.app_name = ""
        self.pending: dict[int, Any] = {}
        self.received = 0.0


class Receiver:
    def __init__(
        self,
        stream: IO[bytes],
        observers: Observers,
        members: dict[str, str],
        on_member: Callable[[str, str], None] | None,
        reap: Callable[[], int | None],
    ) -> None:
        self.stream = stream
        self.observers = observers
        self.recorder = Recorder(observers)
        self.members = members
        self.on_member = on_member
        self.reap = reap  # waits for the child's end: its exit status
        self.shadows: dict[int, Shadow] = {}
        self.flushes: dict[int, threading.Event] = {}
        self.ended = False  # the child shipped END: it stopped as asked
        self.done = threading.Event()  # nothing more will come
        self._thread = threading.Thread(target=self._run, name="mongotx-proxy-observe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        _yield_cores()
        try:
            while not self.ended:
                batch = ship.read(self.stream)
                if batch is None:
                    break
                for item in batch:
                    self._handle(item)
        except Exception:  # a message that cannot be read: as if the child were gone
            pass
        finally:
            status = self.reap()
            if not self.ended:
                self.lost(LOST.format(status=status))
            self.done.set()
            for event in list(self.flushes.values()):
                event.set()  # nothing more will come: every flush is as done as it gets

    def lost(self, why: str) -> None:
        """The child is gone without stopping: its connections' pending commands fail, and
        the observers get one notice."""
        for shadow in list(self.shadows.values()):
            self.recorder.closed(shadow, why)
        self.shadows.clear()
        self.observers.connection(ConnectionNotice(0, "upstream-down", "", why))

    def _handle(self, item: tuple[Any, ...]) -> None:
        kind, conn_id, a, b, at = item
        try:
            if kind == ship.REQUEST or kind == ship.REPLY:
                shadow = self.shadows.get(conn_id)
                if shadow is None:
                    shadow = self.shadows[conn_id] = Shadow(conn_id, "")
                shadow.received = stamp(at)  # a command's duration runs from its arrival
                if kind == ship.REQUEST:
                    self.recorder.request(shadow, a, b)
                else:
                    self.recorder.reply(shadow, a, b)
            elif kind == ship.NOTICE:
                if a.kind == "open":
                    self.shadows[a.conn_id] = Shadow(a.conn_id, a.peer)
                self.observers.connection(a)
            elif kind == ship.CLOSED:
                shadow = self.shadows.pop(conn_id, None)
                if shadow is not None:
                    self.recorder.closed(shadow, b)
                self.observers.connection(a)
            elif kind == ship.FLUSH:
                event = self.flushes.pop(a, None)
                if event is not None:
                    event.set()
            elif kind == ship.MEMBER:
                self.members[a] = b
                if self.on_member is not None:
                    self.on_member(a, b)
            elif kind == ship.MEMBERS:
                self.members.update(a)
            elif kind == ship.END:
                self.ended = True
        except Exception:  # an unforeseen frame costs its record, never the thread
            self.recorder.undecodable += 1

"""Observation on a thread of its own: the forwarding threads only queue what they
forwarded (a frame, its arrival time), and this thread decodes it into records and calls
the observers, in the order the frames were queued.

A frame is queued before it is written (a queue put, no decoding): a reply, read on
another thread, can never be queued before its request, and once a client has a reply,
`flush()` is enough to see it recorded. A connection's notices go through the same queue,
so its `closed` comes after its last records.
"""

from __future__ import annotations

import threading
import time
from queue import Empty, SimpleQueue
from typing import Any

from ...model.proxy_records import ConnectionNotice
from .observe import Observers, Recorder

REQUEST, REPLY, CLOSED, NOTICE, FLUSH = range(5)
BATCH = 0.005  # seconds the observation thread rests between batches


class Feed:
    def __init__(self, recorder: Recorder, observers: Observers) -> None:
        self.recorder = recorder
        self.observers = observers
        self._queue: SimpleQueue[tuple[Any, ...] | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mongotx-proxy-observe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(self, conn: Any, frame: bytes, body: dict[str, Any] | None, at: float) -> None:
        self._queue.put((REQUEST, conn, frame, body, at))

    def reply(self, conn: Any, frame: bytes, body: dict[str, Any] | None, at: float) -> None:
        self._queue.put((REPLY, conn, frame, body, at))

    def closed(self, conn: Any, notice: ConnectionNotice, why: str) -> None:
        self._queue.put((CLOSED, conn, notice, why, 0.0))

    def notice(self, notice: ConnectionNotice) -> None:
        self._queue.put((NOTICE, None, notice, None, 0.0))

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far has reached the observers."""
        done = threading.Event()
        self._queue.put((FLUSH, None, done, None, 0.0))
        return done.wait(timeout)

    def stop(self) -> None:
        """Hand over what is queued, then end the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=30)

    def _run(self) -> None:
        # Batches: after a wake-up, everything queued is handled, then the thread rests a
        # moment, so that under traffic a queued frame is a plain append (no wake-up, no
        # system call, no GIL hand-over per frame); observers hear of a frame within
        # about BATCH seconds.
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            item = get()
            while item is not None:
                self._handle(item)
                try:
                    item = get_nowait()
                except Empty:
                    break
            if item is None:
                return
            time.sleep(BATCH)

    def _handle(self, item: tuple[Any, ...]) -> None:
        recorder = self.recorder
        kind, conn, a, b, at = item
        try:
            if kind == FLUSH:
                a.set()
            elif kind == NOTICE:
                self.observers.connection(a)
            elif kind == CLOSED:
                recorder.closed(conn, b)
                self.observers.connection(a)
            else:
                conn.received = at  # a command's duration runs from its arrival
                (recorder.request if kind == REQUEST else recorder.reply)(conn, a, b)
        except Exception:  # an unforeseen frame costs its record, never the thread
            recorder.undecodable += 1

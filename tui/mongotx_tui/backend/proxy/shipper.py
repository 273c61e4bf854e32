"""The forwarding process's feed: the forwarding threads queue exactly as they do for
feed.Feed (the same `request`/`reply`/`closed`/`notice`, a queue put and nothing else,
before the frame is written), and one thread ships the queue to the parent in batches
instead of decoding it. Decoding, records and observers are the parent's (receive.py):
none of them holds this process's interpreter lock while a frame waits to be forwarded."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from queue import Empty
from typing import Any

from . import ship
from .feed import BATCH, Feed
from .observe import Observers, Recorder


class Shipped(Observers):
    """The forwarding process's observers: the parent's, wherever they are, so the
    forwarding threads always queue (`len` is what they test); nothing is called here."""

    def __len__(self) -> int:
        return 1


class ShipFeed(Feed):
    def __init__(self, out: int, members: Callable[[], dict[str, str]]) -> None:
        observers = Observers()
        super().__init__(Recorder(observers), observers)  # never called: the parent decodes
        self._out = out
        self._members = members
        self._known = 0  # how many members were last shipped
        self._broken = False  # the parent is gone: the queue is drained, nothing written

    def start(self) -> None:
        """Not yet: the parent hears READY first (`begin`)."""

    def begin(self) -> None:
        self._thread.start()

    def ship_flush(self, n: int) -> None:
        """FLUSH n goes after everything queued so far."""
        self._queue.put((ship.FLUSH, None, n, None, 0.0))

    def member(self, member: str, local: str) -> None:
        """A port was opened for an upstream member (listener.Proxy.on_member)."""
        self._queue.put((ship.MEMBER, None, member, local, 0.0))

    def _run(self) -> None:
        # As feed.Feed._run: everything queued in one batch, then a rest, so that under
        # traffic a queued frame costs the forwarding thread a list append.
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            item = get()
            batch: list[tuple[Any, ...]] = []
            while item is not None:
                if item[0] == ship.FLUSH:
                    self._add_members(batch)  # a flush covers what the proxy learnt
                batch.append(_pack(item))
                try:
                    item = get_nowait()
                except Empty:
                    break
            self._add_members(batch)
            if item is None:
                batch.append((ship.END, 0, None, None, 0.0))
            self._send(batch)
            if item is None:
                return
            time.sleep(BATCH)

    def _add_members(self, batch: list[tuple[Any, ...]]) -> None:
        """MEMBERS when the proxy knows more members (a member's own name, `me`, too)."""
        members = self._members()
        if len(members) != self._known:
            self._known = len(members)
            batch.append((ship.MEMBERS, 0, members, None, 0.0))

    def _send(self, batch: list[tuple[Any, ...]]) -> None:
        if self._broken:
            return
        try:
            try:
                ship.write(self._out, batch)
            except (pickle.PicklingError, TypeError, AttributeError):
                # A decoded body pickle cannot carry: the parent decodes the frame itself.
                ship.write(self._out, [_bare(item) for item in batch])
        except OSError:
            self._broken = True  # the parent died: stdin's end stops this process


def _pack(item: tuple[Any, ...]) -> tuple[Any, ...]:
    """A queued item with its connection replaced by the connection's id."""
    kind, conn, a, b, at = item
    return (kind, 0 if conn is None else conn.conn_id, a, b, at)


def _bare(item: tuple[Any, ...]) -> tuple[Any, ...]:
    kind, conn_id, a, _body, at = item
    return (kind, conn_id, a, None, at) if kind in (ship.REQUEST, ship.REPLY) else item

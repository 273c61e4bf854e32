"""One client connection forwarded by two threads with blocking sockets, for a plain-TCP
upstream: each direction is one `recv` and one `sendall` per message, with no event loop
in between. Measured on the 2-core VM (benchmarks/relay_floor.py), a relay built this way
costs about 18 µs of CPU per round trip against 65 µs for the same relay on asyncio
Protocols, so the proxy's own forwarding uses it; a TLS upstream keeps the asyncio path
(forward.py), where one SSL object is never read and written from two threads at once.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from .feed import Feed
from .forward import CONNECT_TIMEOUT, Conn, Proxy, client_frames, reply_frames, take

RECV = 64 * 1024  # below glibc's mmap threshold: a read's buffer comes from the heap


class SockEnd:
    """A connection's socket as Conn.close closes it: shut down first, which wakes a
    thread blocked reading it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def start(proxy: Proxy, conn: Conn, client: socket.socket) -> None:
    client.setblocking(True)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.client = SockEnd(client)  # type: ignore[assignment]
    threading.Thread(
        target=_connect_then_pump,
        args=(proxy, conn, client),
        name=f"mongotx-proxy-{conn.conn_id}",
        daemon=True,
    ).start()


def _connect_then_pump(proxy: Proxy, conn: Conn, client: socket.socket) -> None:
    """The upstream is reached once the client's first bytes are in (a MongoDB client
    always speaks first), so that they are recorded even when it cannot be reached."""
    first = _recv(client)
    host, port = conn.target
    try:
        if not first:
            raise ConnectionAbortedError
        up = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    except ConnectionAbortedError:
        conn.close("closed", "the client closed its connection")
        return
    except OSError as exc:
        reason = exc.strerror or "timed out"
        ready, _ = take(bytearray(), first)
        if ready and len(proxy.observers):  # recorded, then failed with the connection
            at = time.perf_counter()
            for frame in ready:
                proxy.feed.request(conn, frame, None, at)
        conn.close("upstream-down", f"cannot reach the upstream {host}:{port}: {reason}")
        return
    up.settimeout(None)
    up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.upstream = SockEnd(up)  # type: ignore[assignment]
    if conn.closed:  # the proxy stopped while it connected
        conn.upstream.close()
        return
    threading.Thread(
        target=_pump,
        args=(proxy, conn, UPSTREAM, up, client, b""),
        name=f"mongotx-proxy-{conn.conn_id}u",
        daemon=True,
    ).start()
    _pump(proxy, conn, CLIENT, client, up, first)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(RECV)
    except OSError:
        return b""


class Direction(NamedTuple):
    """What differs between a connection's two directions: the close kind and message
    when the side read from leaves (or sends bytes that are not frames) and when the side
    written to is gone, how frames are rewritten, how they are reported."""

    source: str  # "the client" / "the upstream"
    kind: str  # ConnectionKind when the source leaves
    gone: str  # ... and its message
    frames: Callable[[Conn, list[bytes], bytes], tuple[bytes, list[Any] | None]]
    report: Callable[[Feed, Conn, bytes, dict[str, Any] | None, float], None]


CLIENT = Direction(
    "the client", "closed", "the client closed its connection", client_frames, Feed.request
)
UPSTREAM = Direction(
    "the upstream",
    "upstream-closed",
    "the upstream closed the connection",
    reply_frames,
    Feed.reply,
)
OTHER = {CLIENT.source: UPSTREAM, UPSTREAM.source: CLIENT}


def _pump(
    proxy: Proxy, conn: Conn, way: Direction, src: socket.socket, dst: socket.socket, data: bytes
) -> None:
    """Forward `src`'s frames to `dst` until either side goes (`data`: bytes already read
    from `src`). Each frame is queued for observation before it is written: a reply,
    read on the other thread, can then never be queued before its request."""
    buf = bytearray()
    feed = proxy.feed
    observers = proxy.observers
    while True:
        if not data:
            data = _recv(src)
        if not data:
            why = way.gone
            if buf:
                why += f" in the middle of a message ({len(buf)} bytes of it dropped)"
            conn.close(way.kind, why)
            return
        ready, out = take(buf, data)
        if ready is None:
            conn.close(way.kind, f"{way.source} sent {out}")
            return
        data = b""
        if not ready:
            continue
        at = time.perf_counter()  # a command's duration runs from its arrival
        out, bodies = way.frames(conn, ready, out)
        if len(observers):
            for i, frame in enumerate(ready):
                way.report(feed, conn, frame, None if bodies is None else bodies[i], at)
        try:
            dst.sendall(out)
        except OSError:
            sink = OTHER[way.source]
            conn.close(sink.kind, sink.gone)
            return

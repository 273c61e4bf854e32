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
        target=_replies,
        args=(proxy, conn, up, client),
        name=f"mongotx-proxy-{conn.conn_id}u",
        daemon=True,
    ).start()
    _requests(proxy, conn, client, up, first)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(RECV)
    except OSError:
        return b""


def _requests(
    proxy: Proxy, conn: Conn, client: socket.socket, up: socket.socket, data: bytes
) -> None:
    buf = bytearray()
    feed = proxy.feed
    observers = proxy.observers
    while True:
        if not data:
            why = "the client closed its connection"
            if buf:
                why += f" in the middle of a message ({len(buf)} bytes of it dropped)"
            conn.close("closed", why)
            return
        ready, out = take(buf, data)
        if ready is None:
            conn.close("closed", f"the client sent {out}")
            return
        if ready:
            at = time.perf_counter()
            data, bodies = client_frames(conn, ready, out)
            if len(observers):  # queued before the write: its reply cannot overtake it
                for i, frame in enumerate(ready):
                    feed.request(conn, frame, None if bodies is None else bodies[i], at)
            try:
                up.sendall(data)
            except OSError:
                conn.close("upstream-closed", "the upstream closed the connection")
                return
        data = _recv(client)


def _replies(proxy: Proxy, conn: Conn, up: socket.socket, client: socket.socket) -> None:
    buf = bytearray()
    feed = proxy.feed
    observers = proxy.observers
    while True:
        data = _recv(up)
        if not data:
            why = "the upstream closed the connection"
            if buf:
                why += f" in the middle of a message ({len(buf)} bytes of it dropped)"
            conn.close("upstream-closed", why)
            return
        ready, out = take(buf, data)
        if ready is None:
            conn.close("upstream-closed", f"the upstream sent {out}")
            return
        if not ready:
            continue
        at = time.perf_counter()
        data, bodies = reply_frames(conn, ready, out)
        if len(observers):  # queued before the write too: a client that has it, sees it
            for i, frame in enumerate(ready):
                feed.reply(conn, frame, None if bodies is None else bodies[i], at)
        try:
            client.sendall(data)
        except OSError:
            conn.close("closed", "the client closed its connection")
            return

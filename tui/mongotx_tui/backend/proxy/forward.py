"""One client connection through the proxy: the client's side and its own upstream
connection, frames forwarded whole and unchanged in both directions (but for the two
handshake rewrites), then handed to observation.

One upstream connection per client connection, so that the upstream sees the client's
connections one for one (its cursors, exhaust streams and connection ids stay theirs), and
no frame ever waits for a reply: `moreToCome` (a w:0 write, an exhaust stream, awaitable
hello) needs nothing of the proxy, which never pairs requests with replies to forward.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Protocol

from . import frames, handshake
from .feed import Feed
from .observe import Observers, Recorder

CONNECT_TIMEOUT = 10.0  # seconds to reach an upstream member before giving the client up


class Proxy(Protocol):
    """What a connection needs of the proxy it belongs to (listener.Proxy)."""

    recorder: Recorder
    observers: Observers
    feed: Feed

    def connection_opened(self, peer: str, target: tuple[str, int]) -> Conn: ...
    def connect_upstream(self, conn: Conn) -> None: ...
    def connection_closed(self, conn: Conn, kind: str, why: str) -> None: ...
    def local_address(self, member: str) -> str: ...
    def learn(self, conn: Conn, reply: dict[str, Any]) -> None: ...


class Garbage(Exception):
    """Bytes that are not a wire message: the connection is closed."""


# One receive buffer per thread, shared by every connection on it: asyncio's plain
# Protocol allocates a fresh 256 KiB bytes object for every recv (glibc serves that size
# with mmap, then mremap and munmap: three more system calls and page faults per read,
# about 5% of the proxy's samples under `py-spy record --native`). A BufferedProtocol
# receives into this buffer instead; each read is handled before the next one, and what is
# forwarded is copied out first (`bytes(view[:n])`), so nothing keeps a view into it.
RECV_SIZE = 256 * 1024
_recv = threading.local()


def recv_view() -> memoryview:
    view = getattr(_recv, "view", None)
    if view is None:
        view = _recv.view = memoryview(bytearray(RECV_SIZE))
    return view


def split(buf: bytearray | bytes) -> tuple[list[bytes], int]:
    """The complete frames at the front of `buf` and the length they take (Garbage if the
    next announced length is not a message's). A chunk that is exactly one frame, the
    usual case, comes back as itself, without a copy."""
    size = len(buf)
    if size >= 16 and isinstance(buf, bytes):
        length = int.from_bytes(buf[:4], "little", signed=True)
        if length == size:
            return [buf], size
    out: list[bytes] = []
    pos = 0
    while size - pos >= 4:
        length = frames.frame_length(buf, pos)
        if length < 16 or length > frames.MAX_MESSAGE:
            raise Garbage(f"not a MongoDB wire message (a frame announced {length} bytes)")
        if size - pos < length:
            break
        out.append(bytes(buf[pos : pos + length]))
        pos += length
    return out, pos


def take(buf: bytearray, data: bytes) -> tuple[list[bytes] | None, Any]:
    """Add `data` to what `buf` holds of a frame; the complete frames now in, and the bytes
    they make when that is `data` itself (else b""), or (None, the Garbage's text). What is
    left of an incomplete frame stays in `buf`."""
    if buf:
        buf += data
        try:
            ready, used = split(buf)
        except Garbage as exc:
            return None, str(exc)
        del buf[:used]
        return ready, b""
    try:
        ready, used = split(data)
    except Garbage as exc:
        return None, str(exc)
    if used == len(data):
        return ready, data
    buf += data[used:]
    return ready, b""


def _maybe_hello(frame: bytes) -> bool:
    """Whether the frame may be a hello (the few that are, are decoded to be sure): an
    OP_MSG whose command name starts like one, or a legacy OP_QUERY."""
    op = int.from_bytes(frame[12:16], "little")
    if op == frames.OP_MSG:
        return len(frame) > 26 and frame[26] in HELLO_FIRST
    return op == frames.OP_QUERY


def client_frames(
    conn: Conn, ready: list[bytes], out: bytes
) -> tuple[bytes, list[dict[str, Any] | None] | None]:
    """The bytes to write upstream for a client's complete frames (`out` when none
    changed), and the commands decoded on the way (a hello's), if any."""
    bodies: list[dict[str, Any] | None] | None = None
    for i, frame in enumerate(ready):
        if _maybe_hello(frame):
            new, body = ClientSide._handshake(conn, frame)
            if bodies is None:
                bodies = [None] * len(ready)
            bodies[i] = body
            if new is not frame:
                ready[i] = new
                out = b""  # a frame changed: the frames are joined again
    return out or b"".join(ready), bodies


def reply_frames(
    conn: Conn, ready: list[bytes], out: bytes
) -> tuple[bytes, list[dict[str, Any] | None] | None]:
    """The bytes to write to the client for the upstream's complete frames; only a
    handshake's or a monitor's hello replies are decoded and rewritten."""
    if not conn.hello_ids:
        return out or b"".join(ready), None
    bodies: list[dict[str, Any] | None] = [None] * len(ready)
    for i, frame in enumerate(ready):
        new, bodies[i] = UpstreamSide._hello_reply(conn, frame)
        if new is not frame:
            ready[i] = new
            out = b""
    return out or b"".join(ready), bodies


class Conn:
    """What the proxy knows of one client connection."""

    def __init__(self, proxy: Proxy, conn_id: int, peer: str, target: tuple[str, int]) -> None:
        self.proxy = proxy
        self.conn_id = conn_id
        self.peer = peer
        self.target = target  # the upstream member this connection goes to
        self.app_name = ""
        self.pending: dict[int, Any] = {}  # requestID → (record, started): observation only
        self.hello_ids: set[int] = set()  # requests whose replies get their hosts rewritten
        self.client: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.early: list[bytes] = []  # frames that came before the upstream was connected
        self.received = 0.0  # perf_counter when the frames being handled arrived
        self.closed = False
        self._closing = threading.Lock()  # two forwarding threads may close it at once

    @property
    def target_address(self) -> str:
        return f"{self.target[0]}:{self.target[1]}"

    def close(self, kind: str, why: str) -> None:
        """Close both sides once, tell the observers why."""
        with self._closing:
            if self.closed:
                return
            self.closed = True
        for t in (self.client, self.upstream):
            if t is not None:
                t.close()
        self.proxy.connection_closed(self, kind, why)


# An OP_MSG's command name starts at byte 26 (header, flagBits, section kind 0, then the
# body's length): hello, isMaster and ismaster start with one of these, any case.
HELLO_FIRST = frozenset(b"hHiI")


class ClientSide(asyncio.BufferedProtocol):
    def __init__(self, proxy: Proxy, target: tuple[str, int]) -> None:
        self.proxy = proxy
        self.target = target
        self.buf = bytearray()  # the start of a frame whose end has not arrived
        self.view = recv_view()
        self.conn: Conn | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.conn = self.proxy.connection_opened(peer_text, self.target)
        self.conn.client = transport
        self.proxy.connect_upstream(self.conn)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        conn = self.conn
        assert conn is not None
        ready, out = take(self.buf, bytes(self.view[:nbytes]))
        if ready is None:
            conn.close("closed", f"the client sent {out}")
            return
        if not ready:
            return
        at = time.perf_counter()  # a command's duration starts as it arrives
        data, bodies = client_frames(conn, ready, out)
        if len(self.proxy.observers):  # queued before the write: its reply cannot overtake it
            for i, frame in enumerate(ready):
                self.proxy.feed.request(conn, frame, None if bodies is None else bodies[i], at)
        if conn.upstream is None:
            conn.early.append(data)
        else:
            conn.upstream.write(data)

    @staticmethod
    def _handshake(conn: Conn, frame: bytes) -> tuple[bytes, dict[str, Any] | None]:
        op = int.from_bytes(frame[12:16], "little")
        if op == frames.OP_MSG:
            if not handshake.is_hello(frames.peek_command(frame)):
                return frame, None
        elif op != frames.OP_QUERY:  # legacy OP_QUERY: only a handshake's isMaster now
            return frame, None
        conn.hello_ids.add(frames.header(frame).request_id)
        try:
            return handshake.strip_compression(frame)
        except frames.FrameError:
            return frame, None  # the upstream answers a malformed handshake itself

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            why = "the client closed its connection"
            if self.buf:
                why += f" in the middle of a message ({len(self.buf)} bytes of it dropped)"
            self.conn.close("closed", why)

    def pause_writing(self) -> None:
        if self.conn is not None and self.conn.upstream is not None:
            self.conn.upstream.pause_reading()

    def resume_writing(self) -> None:
        if self.conn is not None and self.conn.upstream is not None:
            self.conn.upstream.resume_reading()


class UpstreamSide(asyncio.BufferedProtocol):
    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.buf = bytearray()
        self.view = recv_view()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        conn = self.conn
        conn.upstream = transport
        if conn.early:
            transport.write(b"".join(conn.early))
            conn.early = []

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        conn = self.conn
        ready, out = take(self.buf, bytes(self.view[:nbytes]))
        if ready is None:
            conn.close("upstream-closed", f"the upstream sent {out}")
            return
        if not ready or conn.client is None:
            return
        at = time.perf_counter()  # and ends as its reply arrives
        data, bodies = reply_frames(conn, ready, out)
        if len(conn.proxy.observers):  # queued before the write (feed.py)
            for i, frame in enumerate(ready):
                conn.proxy.feed.reply(conn, frame, None if bodies is None else bodies[i], at)
        conn.client.write(data)

    @staticmethod
    def _hello_reply(conn: Conn, frame: bytes) -> tuple[bytes, dict[str, Any] | None]:
        h = frames.header(frame)
        if h.response_to not in conn.hello_ids:
            return frame, None
        conn.hello_ids.discard(h.response_to)
        if h.op_code == frames.OP_MSG and frames.msg_flags(frame) & frames.MORE_TO_COME:
            # An awaitable hello streams its next reply in answer to this one (the server's
            # exhaust: the next reply's responseTo is this reply's requestID).
            conn.hello_ids.add(h.request_id)
        proxy = conn.proxy
        try:
            return handshake.rewrite_reply(
                frame, proxy.local_address, lambda body: proxy.learn(conn, body)
            )
        except frames.FrameError:
            return frame, None

    def connection_lost(self, exc: Exception | None) -> None:
        why = "the upstream closed the connection"
        if self.buf:
            why += f" in the middle of a message ({len(self.buf)} bytes of it dropped)"
        self.conn.close("upstream-closed", why)

    def pause_writing(self) -> None:
        if self.conn.client is not None:
            self.conn.client.pause_reading()

    def resume_writing(self) -> None:
        if self.conn.client is not None:
            self.conn.client.resume_reading()

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
import time
from typing import Any, Protocol

from . import frames, handshake
from .observe import Recorder


class Proxy(Protocol):
    """What a connection needs of the proxy it belongs to (listener.Proxy)."""

    recorder: Recorder

    def connection_opened(self, peer: str, target: tuple[str, int]) -> Conn: ...
    def connect_upstream(self, conn: Conn) -> None: ...
    def connection_closed(self, conn: Conn, kind: str, why: str) -> None: ...
    def local_address(self, member: str) -> str: ...
    def learn(self, conn: Conn, reply: dict[str, Any]) -> None: ...


class Garbage(Exception):
    """Bytes that are not a wire message: the connection is closed."""


def split(buf: bytearray) -> list[bytes]:
    """Take the complete frames off the front of `buf` (Garbage if the next announced
    length is not a message's)."""
    out: list[bytes] = []
    pos = 0
    size = len(buf)
    while size - pos >= 4:
        length = frames.frame_length(buf, pos)
        if length < 16 or length > frames.MAX_MESSAGE:
            raise Garbage(f"not a MongoDB wire message (a frame announced {length} bytes)")
        if size - pos < length:
            break
        out.append(bytes(buf[pos : pos + length]))
        pos += length
    del buf[:pos]
    return out


def observe(method: Any, conn: Conn, frame: bytes, body: dict[str, Any] | None) -> None:
    """Observation never disturbs forwarding: an unexpected error there (a frame shaped in a
    way the recorder did not foresee) costs that record only, not the connection (asyncio
    closes a transport whose data_received raises)."""
    try:
        method(conn, frame, body)
    except Exception:
        conn.proxy.recorder.undecodable += 1


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

    @property
    def target_address(self) -> str:
        return f"{self.target[0]}:{self.target[1]}"

    def close(self, kind: str, why: str) -> None:
        """Close both sides once, tell the observers why."""
        if self.closed:
            return
        self.closed = True
        for t in (self.client, self.upstream):
            if t is not None:
                t.close()
        self.proxy.connection_closed(self, kind, why)


class ClientSide(asyncio.Protocol):
    def __init__(self, proxy: Proxy, target: tuple[str, int]) -> None:
        self.proxy = proxy
        self.target = target
        self.buf = bytearray()
        self.conn: Conn | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.conn = self.proxy.connection_opened(peer_text, self.target)
        self.conn.client = transport
        self.proxy.connect_upstream(self.conn)

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        assert conn is not None
        self.buf += data
        try:
            ready = split(self.buf)
        except Garbage as exc:
            conn.close("closed", f"the client sent {exc}")
            return
        if not ready:
            return
        conn.received = time.perf_counter()  # a command's duration starts as it arrives
        out: list[bytes] = []
        seen: list[tuple[bytes, dict[str, Any] | None]] = []
        for frame in ready:
            frame, body = self._handshake(conn, frame)
            out.append(frame)
            seen.append((frame, body))
        if conn.upstream is None:
            conn.early.extend(out)
        else:
            conn.upstream.write(b"".join(out))
        for frame, body in seen:  # after the write: observation is off the forwarding path
            observe(self.proxy.recorder.request, conn, frame, body)

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


class UpstreamSide(asyncio.Protocol):
    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.buf = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        conn = self.conn
        conn.upstream = transport
        if conn.early:
            transport.write(b"".join(conn.early))
            conn.early = []

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        self.buf += data
        try:
            ready = split(self.buf)
        except Garbage as exc:
            conn.close("upstream-closed", f"the upstream sent {exc}")
            return
        if not ready or conn.client is None:
            return
        conn.received = time.perf_counter()  # and ends as its reply arrives
        out: list[bytes] = []
        seen: list[tuple[bytes, dict[str, Any] | None]] = []
        for frame in ready:
            frame, body = self._hello_reply(conn, frame)
            out.append(frame)
            seen.append((frame, body))
        conn.client.write(b"".join(out))
        for frame, body in seen:
            observe(conn.proxy.recorder.reply, conn, frame, body)

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

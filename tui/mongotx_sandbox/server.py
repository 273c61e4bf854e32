"""The asyncio TCP server: one task per connection, one request at a time per connection.

The server frames messages and encodes replies; what a request means is the handler's job
(`dispatch.handle` unless given another: a proxy, a fault injector, another member's role)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from . import dispatch
from .connections import Connection
from .cursors import expire_idle
from .errors import CloseConnection, CommandError, ProtocolError
from .state import ServerState
from .wire import (
    HEADER,
    MAX_MESSAGE_SIZE,
    OP_QUERY,
    Request,
    build_op_msg,
    build_op_reply,
    parse_message,
)

log = logging.getLogger("mongotx_sandbox")

# One decoded request in, the reply document out (None: send nothing, for moreToCome).
# CloseConnection closes the client's connection; any other exception becomes an error reply.
Handler = Callable[[ServerState, Connection, Request], Awaitable[dict[str, Any] | None]]


class SandboxServer:
    """An in-process one-member replica set. `async with SandboxServer() as uri:`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        replset: str | None = "rs0",
        handler: Handler = dispatch.handle,
    ) -> None:
        """`replset=None` runs a standalone server (to show what transactions need);
        `handler` answers each request (default: the sandbox's own command path)."""
        self.host = host
        self.port = port
        self.replset = replset
        self.handler = handler
        self.state = ServerState(replset=replset)
        self._server: asyncio.base_events.Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._conn_tasks: set[asyncio.Task[Any]] = set()

    @property
    def uri(self) -> str:
        if self.replset is None:
            return f"mongodb://{self.state.host}/"
        return f"mongodb://{self.state.host}/?replicaSet={self.replset}"

    async def start(self) -> str:
        self.state.oplog_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        sock = self._server.sockets[0]
        port = sock.getsockname()[1]
        self.port = port
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address, as URIs and hello's hosts write it
        self.state.host = f"{host}:{port}".lower()
        self._reaper = asyncio.create_task(self._reap())
        return self.uri

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        if self._server is not None:
            self._server.close()
            for task in list(self._conn_tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def _reap(self) -> None:
        """Abort expired transactions. MongoDB's reaper runs every limit/2 s (1-60 s,
        reference §3.8); checking twice a second keeps the abort close to the expiry time
        the workbench shows, and picks up a changed limit at once."""
        while True:
            await asyncio.sleep(0.5)
            try:
                self.state.reap_expired()
                # MongoDB's cursor monitor runs every clientCursorMonitorFrequencySecs (4).
                expire_idle(self.state)
            except Exception:  # the reaper must outlive any bug
                log.exception("reaper failed")

    def _protocol(self) -> _WireProtocol:
        return _WireProtocol(self)

    async def _serve(self, wire: _WireProtocol) -> None:
        """Read whole messages, answer each in turn; any bad message closes this connection."""
        task = asyncio.current_task()
        assert task is not None
        self._conn_tasks.add(task)
        conn = self.state.connect(wire.peer)
        try:
            while True:
                message = await wire.next_message()
                if message is None:
                    return
                try:
                    request = parse_message(HEADER.unpack_from(message), message[HEADER.size :])
                except ProtocolError as exc:
                    log.info("closing connection %s: %s", conn.id, exc)
                    return
                try:
                    reply = await self.handler(self.state, conn, request)
                except CloseConnection:
                    return
                except Exception as exc:  # one client's bad input must not kill the server
                    log.exception("internal error on %s", next(iter(request.body), "?"))
                    reply = CommandError(
                        1, f"internal sandbox error: {type(exc).__name__}: {exc}"
                    ).to_reply()
                if reply is None:
                    continue
                try:
                    if request.op_code == OP_QUERY:
                        data = build_op_reply(request.request_id, reply)
                    else:
                        data = build_op_msg(request.request_id, reply)
                except Exception as exc:
                    log.exception("could not encode reply")
                    data = build_op_msg(
                        request.request_id,
                        CommandError(1, f"reply could not be encoded: {exc}").to_reply(),
                    )
                await wire.send(data)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.state.disconnect(conn)
            self._conn_tasks.discard(task)
            wire.close()


class _WireProtocol(asyncio.Protocol):
    """Frames the byte stream into messages (lighter than StreamReader for small requests)."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.lost = False
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer = f"{peer[0]}:{peer[1]}"
        asyncio.get_running_loop().create_task(self.server._serve(self))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > 2 * MAX_MESSAGE_SIZE and self.transport is not None:
            self.transport.pause_reading()
            self._reading_paused = True
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next_message(self) -> bytes | None:
        """The next whole message, or None once the peer is gone or sent a bad length."""
        buf = self.buffer
        while True:
            if len(buf) >= 4:
                length = int.from_bytes(buf[:4], "little", signed=True)
                if length < HEADER.size + 1 or length > MAX_MESSAGE_SIZE:
                    log.info("closing connection: message length %d", length)
                    return None
                if len(buf) >= length:
                    message = bytes(buf[:length])
                    del buf[:length]
                    if self._reading_paused and len(buf) < MAX_MESSAGE_SIZE and self.transport:
                        self.transport.resume_reading()
                        self._reading_paused = False
                    return message
            if self.lost:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            self._waiter = None

    async def send(self, data: bytes) -> None:
        if self.lost or self.transport is None:
            raise ConnectionError("connection lost")
        self.transport.write(data)
        if self._drained is not None:
            await self._drained

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

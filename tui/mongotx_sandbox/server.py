"""The asyncio TCP server: one task per connection, one request at a time per connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from . import dispatch
from .errors import CloseConnection, CommandError, ProtocolError
from .state import ServerState
from .wire import (
    HEADER,
    MAX_MESSAGE_SIZE,
    OP_QUERY,
    build_op_msg,
    build_op_reply,
    parse_message,
)

log = logging.getLogger("mongotx_sandbox")


class SandboxServer:
    """An in-process one-member replica set. `async with SandboxServer() as uri:`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, replset: str = "rs0") -> None:
        self.host = host
        self.port = port
        self.replset = replset
        self.state = ServerState(replset=replset)
        self._server: asyncio.base_events.Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._conn_tasks: set[asyncio.Task[Any]] = set()

    @property
    def uri(self) -> str:
        return f"mongodb://{self.state.host}/?replicaSet={self.replset}"

    async def start(self) -> str:
        self.state.oplog_event = asyncio.Event()
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        sock = self._server.sockets[0]
        port = sock.getsockname()[1]
        self.port = port
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
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
            except Exception:  # the reaper must outlive any bug
                log.exception("reaper failed")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conn_tasks.add(task)
        peer = writer.get_extra_info("peername")
        conn = dispatch.Connection(self.state, f"{peer[0]}:{peer[1]}" if peer else "?")
        self.state.connections[conn.id] = conn
        try:
            while True:
                try:
                    raw = await reader.readexactly(HEADER.size)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                header = HEADER.unpack(raw)
                length = header[0]
                if length < HEADER.size + 1 or length > MAX_MESSAGE_SIZE:
                    log.info("closing connection %s: message length %d", conn.id, length)
                    return
                try:
                    payload = await reader.readexactly(length - HEADER.size)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                try:
                    request = parse_message(header, payload)
                except ProtocolError as exc:
                    log.info("closing connection %s: %s", conn.id, exc)
                    return
                try:
                    reply = await dispatch.handle(self.state, conn, request)
                except CloseConnection:
                    return
                except Exception as exc:  # one client's bad input must not kill the server
                    log.exception(
                        "internal error on %s", request.body and next(iter(request.body), "?")
                    )
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
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.state.connections.pop(conn.id, None)
            self._conn_tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

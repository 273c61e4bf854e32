"""The asyncio TCP server: one task per connection, one request at a time per connection.

The server frames messages and encodes replies; what a request means is the handler's job
(`dispatch.handle` unless given another: a proxy, a fault injector, another member's role)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import dispatch
from .connections import Connection
from .cursors import expire_idle
from .errors import CloseConnection, CommandError, ProtocolError, internal_error
from .state import ServerState
from .topology import ELECTION_TIMEOUT_MS
from .wire import (
    EXHAUST_ALLOWED,
    HEADER,
    MAX_MESSAGE_SIZE,
    MORE_TO_COME,
    OP_MSG,
    OP_QUERY,
    Request,
    build_op_msg,
    build_op_reply,
    parse_message,
)

if TYPE_CHECKING:
    from .replication import ReplicaSet

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
        members: int = 1,
        election_timeout_ms: int = ELECTION_TIMEOUT_MS,
    ) -> None:
        """`replset=None` runs a standalone server (to show what transactions need);
        `handler` answers each request (default: the sandbox's own command path);
        `members` > 1 adds secondaries, each on its own port (the next ports after a
        given one, free ones after port 0): `replica_set` then controls the set."""
        if members < 1 or (members > 1 and replset is None):
            raise ValueError("members: 1, or more for a replica set (not standalone)")
        self.host = host
        self.port = port
        self.replset = replset
        self.handler = handler
        self.state = ServerState(replset=replset)
        self.members = members
        self.election_timeout_ms = election_timeout_ms
        self.replica_set: ReplicaSet | None = None
        self._secondaries: list[SandboxServer] = []
        self._given_port: bool | None = None
        self._resetting = False  # stop_listening(reset=True) is closing the connections
        # --tls (tls.py): every connection is TLS, and the URI says tls=true.
        self.ssl_context: ssl.SSLContext | None = None
        self._server: asyncio.base_events.Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._conn_tasks: set[asyncio.Task[Any]] = set()
        self._wires: set[_WireProtocol] = set()  # the open client connections

    @property
    def listens_everywhere(self) -> bool:
        """Bound to the wildcard address: every interface, reachable from other machines."""
        return self.host in ("0.0.0.0", "::", "")

    @property
    def uri(self) -> str:
        hosts = ",".join([self.state.host, *(s.state.host for s in self._secondaries)])
        options = [] if self.replset is None else [f"replicaSet={self.replset}"]
        if self.ssl_context is not None:
            options.append("tls=true")
        return f"mongodb://{hosts}/" + ("?" + "&".join(options) if options else "")

    async def start(self) -> str:
        await self.start_listening()
        if self.members > 1 and self.replica_set is None:
            await self._start_members()
        return self.uri

    async def _start_members(self) -> None:
        """The other members: servers of their own sharing this one's version store, clock,
        oplog and config.transactions (replication.ReplicaSet)."""
        from .replication import ReplicaSet  # one member never loads it

        rs = ReplicaSet(self.replset or "rs0", self.election_timeout_ms)
        rs.add(self.state, self)
        for i in range(1, self.members):
            port = self.port + i if self.port and self._given_port else 0
            other = SandboxServer(self.host, port, self.replset, self.handler)
            shared = other.state
            shared.catalog, shared.clock, shared.oplog = (
                self.state.catalog,
                self.state.clock,
                self.state.oplog,
            )
            shared.txn_records = self.state.txn_records
            shared.parameters = dict(self.state.parameters)
            shared.auth = self.state.auth  # users replicate (admin.system.users)
            other.ssl_context = self.ssl_context
            await other.start_listening()
            rs.add(shared, other)
            self._secondaries.append(other)
        self.replica_set = rs
        await rs.start()

    async def start_listening(self) -> None:
        """Listen on the port (the same one again after stop_listening: a restart)."""
        if self._given_port is None:
            self._given_port = bool(self.port)
        self.state.oplog_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self.host, self.port, ssl=self.ssl_context
        )
        sock = self._server.sockets[0]
        port = sock.getsockname()[1]
        self.port = port
        host = self.host if not self.listens_everywhere else _machine_name()
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address, as URIs and hello's hosts write it
        self.state.host = f"{host}:{port}".lower()
        self._reaper = asyncio.create_task(self._reap())

    async def stop(self) -> None:
        if self.replica_set is not None:
            await self.replica_set.stop()
            self.replica_set = None
        for other in self._secondaries:
            await other.stop_listening()
        await self.stop_listening()

    async def stop_listening(self, reset: bool = False) -> None:
        """Close the port and every client connection (stop, or a killed member, whose
        connections are reset as a dead process's are: `reset`)."""
        self._resetting = reset
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        if self._server is not None:
            self._server.close()
            for task in list(self._conn_tasks):
                task.cancel()
            # A connection whose task has not started yet has no `finally` to close it.
            for wire in list(self._wires):
                wire.close()
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
                header = HEADER.unpack_from(message)
                try:
                    request = parse_message(header, message[HEADER.size :])
                except ProtocolError as exc:
                    if exc.code is None:
                        log.info("closing connection %s: %s", conn.id, exc)
                        return
                    if not exc.more_to_come:
                        await wire.send(_parse_error(header, exc))
                    continue
                response_to = request.request_id
                while True:
                    try:
                        reply = await self.handler(self.state, conn, request)
                    except CloseConnection:
                        return
                    except Exception as exc:  # another handler's bug must not kill the server
                        reply = internal_error("?", exc).to_reply()
                    if reply is None or request.more_to_come:
                        break
                    streams = _exhausts(request, reply)
                    data = _encode(request, response_to, reply, streams)
                    await wire.send(data)
                    if not streams:
                        break
                    # Exhaust: the same getMore runs again unasked; each reply answers the
                    # one before it (its responseTo is that reply's requestId).
                    response_to = int.from_bytes(data[4:8], "little", signed=True)
                    body = dict(request.body)
                    if "topologyVersion" in body:
                        # A streamed hello waits for the change after the one it answered.
                        body["topologyVersion"] = reply["topologyVersion"]
                    request = replace(request, body=body)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.state.disconnect(conn)
            self._conn_tasks.discard(task)
            wire.close()


def _exhausts(request: Request, reply: dict[str, Any]) -> bool:
    """A getMore (or an awaitable hello) sent with exhaustAllowed streams its batches: while its cursor stays open,
    mongod flags each reply moreToCome and runs the getMore again without a new request
    [srv:db/commands/getmore_cmd.cpp: isExhaust() and a live cursor -> setNextInvocation;
    db/service_entry_point_common.cpp shouldRunAgainForExhaust]. A find never streams."""
    if request.op_code != OP_MSG or not request.flags & EXHAUST_ALLOWED:
        return False
    name = next(iter(request.body), None)
    if name in ("hello", "isMaster", "ismaster"):
        # An awaitable hello sent with exhaustAllowed streams: each reply comes when the
        # topology changes or maxAwaitTimeMS passes [spec: server-discovery-and-monitoring
        # "Streaming Protocol"; srv:db/repl/replication_info.cpp, hello's exhaust]. Only a
        # multi-member set sends topologyVersion, so one member never streams.
        body = request.body
        return (
            reply.get("ok") == 1
            and "topologyVersion" in reply
            and "topologyVersion" in body
            and "maxAwaitTimeMS" in body
        )
    if name != "getMore" or reply.get("ok") != 1:
        return False
    cursor = reply.get("cursor")
    return isinstance(cursor, dict) and cursor.get("id", 0) != 0


def _encode(request: Request, response_to: int, reply: dict[str, Any], more: bool) -> bytes:
    try:
        if request.op_code == OP_QUERY:
            return build_op_reply(response_to, reply)
        return build_op_msg(response_to, reply, flags=MORE_TO_COME if more else 0)
    except Exception as exc:
        return build_op_msg(response_to, internal_error("?", exc).to_reply())


def _machine_name() -> str:
    """The name other machines reach this one by, for a server on every interface: a replica
    set member is named by host name, as replSetInitiate names itself when not bound to
    localhost only [manual: rs.initiate(), "IP Binding"; SERVER-31464]. A name that does not
    resolve would strand drivers, so then the loopback address."""
    name = socket.gethostname()
    try:
        socket.getaddrinfo(name, None)
    except OSError:
        return "127.0.0.1"
    return name


def _parse_error(header: tuple[int, int, int, int], exc: ProtocolError) -> bytes:
    """mongod answers a request it could not parse, unless the error is connection-fatal
    [srv:db/service_entry_point_common.cpp receivedCommands]."""
    reply = CommandError(exc.code or 1, exc.message).to_reply()
    if header[3] == OP_QUERY:
        return build_op_reply(header[1], reply)
    return build_op_msg(header[1], reply)


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
        self.server._wires.add(self)
        asyncio.get_running_loop().create_task(self.server._serve(self))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > 2 * MAX_MESSAGE_SIZE and self.transport is not None:
            self.transport.pause_reading()
            self._reading_paused = True
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._wires.discard(self)
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
            if self.server._resetting:
                self.transport.abort()  # RST, not FIN: the member was killed
            else:
                self.transport.close()

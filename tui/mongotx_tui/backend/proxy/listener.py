"""The proxy's listeners: one local port per upstream member.

The port given by `--listen` forwards to the URI's first host. When a hello reply names
members (hosts, passives, arbiters, me, primary), each member not yet known gets a port of
its own on the same local address, opened there and then (the system picks a free port),
and the reply names those ports: a replica-set-aware driver then connects to every member
through the proxy, and a member's `me` name maps to the port that already reaches it. A
mongos behind the proxy names no members: one port, to the URI's first host (further
mongos hosts in the URI are not used).
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import ssl
from collections.abc import Callable
from typing import Any

from ...model.proxy_records import ConnectionKind, ConnectionNotice
from . import pumps
from .feed import Feed
from .forward import CONNECT_TIMEOUT, ClientSide, Conn, UpstreamSide
from .observe import Observers, Recorder
from .upstream import Upstream


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class Proxy:
    """The proxy on one event loop (see threaded.py to run it on a thread of its own)."""

    def __init__(
        self,
        upstream: Upstream,
        listen: tuple[str, int] = ("127.0.0.1", 27018),
        observers: Observers | None = None,
        on_member: Callable[[str, str], None] | None = None,
    ) -> None:
        self.upstream = upstream
        self.listen_host, self.listen_port = listen
        self.observers = observers if observers is not None else Observers()
        self.recorder = Recorder(self.observers)
        self.feed = Feed(self.recorder, self.observers)
        self.on_member = on_member  # (upstream member, local address): a port was opened
        self.members: dict[str, str] = {}  # upstream member address → local address
        self.servers: list[asyncio.AbstractServer] = []
        self.accepting: list[socket.socket] = []  # plain-TCP upstream: accepted on the loop
        self.conns: dict[int, Conn] = {}
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.address = ""
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- listeners -------------------------------------------------------------------------
    async def start(self) -> str:
        self.loop = asyncio.get_running_loop()
        self.feed.start()
        sock = self._bind(self.listen_host, self.listen_port)
        self.address = self._local(sock)
        self.members[self.upstream.seed] = self.address
        await self._serve(sock, self.upstream.seeds[0])
        return self.address

    def _bind(self, host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1024)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    def _local(self, sock: socket.socket) -> str:
        host = self.listen_host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()  # what other machines can reach; not a wildcard
        port = sock.getsockname()[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    async def _serve(self, sock: socket.socket, target: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        if self.upstream.tls is None:  # each connection forwarded by threads (pumps.py)
            self.accepting.append(sock)
            loop.add_reader(sock.fileno(), self._accept, sock, target)
            return
        server = await loop.create_server(lambda: ClientSide(self, target), sock=sock)
        self.servers.append(server)

    def _accept(self, sock: socket.socket, target: tuple[str, int]) -> None:
        while True:
            try:
                client, peer = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of file descriptors, or the socket closed: try again later
                return
            peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
            pumps.start(self, self.connection_opened(peer_text, target), client)

    def local_address(self, member: str) -> str:
        """The local address that reaches upstream `member`, opening a port for it the first
        time (bound at once, so the reply can name it; served a moment later)."""
        known = self.members.get(member)
        if known is not None:
            return known
        try:
            target = _split_address(member)
            sock = self._bind(self.listen_host, 0)
        except (ValueError, OSError):
            return member  # cannot stand in for it: the driver will go there directly
        local = self._local(sock)
        self.members[member] = local
        # Asked on a forwarding thread (pumps.py) or on the loop: served on the loop.
        assert self.loop is not None  # a reply came: the proxy has started
        self.loop.call_soon_threadsafe(lambda: self._spawn(self._serve(sock, target)))
        if self.on_member is not None:
            self.on_member(member, local)
        return local

    def learn(self, conn: Conn, reply: dict[str, Any]) -> None:
        """A member's own name for itself (`me`) reaches it through the port its connection
        came on: one port per member however the URI spells its address."""
        me = reply.get("me")
        if isinstance(me, str) and me not in self.members:
            local = self.members.get(conn.target_address)
            if local is not None:
                self.members[me] = local

    # -- connections -----------------------------------------------------------------------
    def connection_opened(self, peer: str, target: tuple[str, int]) -> Conn:
        conn = Conn(self, next(self._ids), peer, target)
        self.conns[conn.conn_id] = conn
        self.feed.notice(ConnectionNotice(conn.conn_id, "open", peer))
        return conn

    def connect_upstream(self, conn: Conn) -> None:
        self._spawn(self._connect(conn))

    async def _connect(self, conn: Conn) -> None:
        loop = asyncio.get_running_loop()
        host, port = conn.target
        tls = self.upstream.tls
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: UpstreamSide(conn),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=self.upstream.server_hostname(host),
                ),
                CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or "timed out"
            conn.close("upstream-down", f"cannot reach the upstream {host}:{port}: {reason}")
            return
        if conn.closed and conn.upstream is not None:
            conn.upstream.close()  # the client left while the upstream was connecting

    def connection_closed(self, conn: Conn, kind: str, why: str) -> None:
        self.conns.pop(conn.conn_id, None)
        notice_kind: ConnectionKind = kind  # type: ignore[assignment]
        self.feed.closed(conn, ConnectionNotice(conn.conn_id, notice_kind, conn.peer, why), why)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        for sock in self.accepting:
            loop.remove_reader(sock.fileno())
            sock.close()
        self.accepting = []
        for server in self.servers:
            server.close()
        for conn in list(self.conns.values()):
            conn.close("closed", "the proxy stopped")
        for task in list(self._tasks):
            task.cancel()
        for server in self.servers:
            await server.wait_closed()
        self.servers = []
        self.feed.stop()  # the records and notices queued so far reach the observers

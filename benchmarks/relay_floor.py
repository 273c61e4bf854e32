"""The floor for any Python proxy on this machine: a minimal relay that copies bytes both
ways and does nothing else (no framing, no observation), run on its own process.

python benchmarks/relay_floor.py HOST:PORT [--asyncio | --uvloop | --selector]
    # prints "listening on HOST:PORT"

Default: a thread per direction, blocking sockets (recv, sendall: one system call each per
message, no event loop). `--asyncio`: asyncio Protocols on the stdlib loop, each chunk
written from `data_received`; `--uvloop`: the same on uvloop; `--selector`: one thread for
every connection, non-blocking sockets on an epoll selector (recv, then send at once).
The round trip it adds is what a fourth hop written in Python costs before the proxy does
any work of its own (benchmarks/relay_bench.py compares them).
"""

from __future__ import annotations

import asyncio
import selectors
import socket
import sys
import threading

CHUNK = 65536


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(CHUNK):
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def threaded(listen: socket.socket, upstream: tuple[str, int]) -> None:
    while True:
        client, _ = listen.accept()
        server = socket.create_connection(upstream)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_pump, args=(client, server), daemon=True).start()
        threading.Thread(target=_pump, args=(server, client), daemon=True).start()


class _Side(asyncio.Protocol):
    def __init__(self) -> None:
        self.peer: asyncio.Transport | None = None
        self.early: list[bytes] = []

    def data_received(self, data: bytes) -> None:
        if self.peer is None:
            self.early.append(data)
        else:
            self.peer.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None:
            self.peer.close()


async def with_asyncio(listen: socket.socket, upstream: tuple[str, int]) -> None:
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    def accepted() -> _Side:
        client = _Side()

        async def connect() -> None:
            _, server = await loop.create_connection(_Side, *upstream)
            server.peer = client.transport  # type: ignore[attr-defined]
            client.peer = server.transport  # type: ignore[attr-defined]
            client.peer.write(b"".join(client.early))

        tasks.add(task := loop.create_task(connect()))
        task.add_done_callback(tasks.discard)
        return client

    _Side.connection_made = lambda self, t: setattr(self, "transport", t)  # type: ignore[method-assign]
    server = await loop.create_server(accepted, sock=listen)
    await server.serve_forever()


class _Pair:
    """One direction of a connection on the selector: `src` read, `dst` written, and what
    is left to send to `dst` (while some is, `src` is not read)."""

    def __init__(self, src: socket.socket, dst: socket.socket) -> None:
        self.src, self.dst = src, dst
        self.pending = b""
        self.other: _Pair = self
        self.events = 0


def with_selector(listen: socket.socket, upstream: tuple[str, int]) -> None:
    sel = selectors.DefaultSelector()
    listen.setblocking(False)
    sel.register(listen, selectors.EVENT_READ, None)

    def update(reader: _Pair) -> None:
        """Interest in reader.src: read unless its bytes wait, write while the other
        direction's bytes wait for it."""
        events = (0 if reader.pending else selectors.EVENT_READ) | (
            selectors.EVENT_WRITE if reader.other.pending else 0
        )
        if events == reader.events:
            return
        if not reader.events:
            sel.register(reader.src, events, reader)
        elif not events:
            sel.unregister(reader.src)
        else:
            sel.modify(reader.src, events, reader)
        reader.events = events

    def close(pair: _Pair) -> None:
        for p in (pair, pair.other):
            if p.events:
                sel.unregister(p.src)
                p.events = 0
            p.src.close()

    while True:
        for key, events in sel.select():
            pair = key.data
            if pair is None:
                client, _ = listen.accept()
                server = socket.create_connection(upstream)
                for s in (client, server):
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    s.setblocking(False)
                there, back = _Pair(client, server), _Pair(server, client)
                there.other, back.other = back, there
                update(there)
                update(back)
                continue
            if pair.src.fileno() < 0:
                continue  # closed earlier in this round
            if events & selectors.EVENT_WRITE:
                writer = pair.other  # its bytes wait for pair.src
                try:
                    sent = writer.dst.send(writer.pending)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    close(pair)
                    continue
                writer.pending = writer.pending[sent:]
                update(pair)
                update(writer)
            if not events & selectors.EVENT_READ:
                continue
            try:
                data = pair.src.recv(CHUNK)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                close(pair)
                continue
            try:
                sent = pair.dst.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                close(pair)
                continue
            if sent < len(data):
                pair.pending = data[sent:]
                update(pair)
                update(pair.other)


def main() -> None:
    host, port = sys.argv[1].rsplit(":", 1)
    listen = socket.create_server(("127.0.0.1", 0))
    print(f"listening on 127.0.0.1:{listen.getsockname()[1]}", flush=True)
    upstream = (host, int(port))
    if "--asyncio" in sys.argv:
        asyncio.run(with_asyncio(listen, upstream))
    elif "--uvloop" in sys.argv:
        try:
            import uvloop
        except ImportError:
            raise SystemExit("--uvloop needs uvloop: .venv/bin/pip install uvloop") from None
        uvloop.run(with_asyncio(listen, upstream))
    elif "--selector" in sys.argv:
        with_selector(listen, upstream)
    else:
        threaded(listen, upstream)


if __name__ == "__main__":
    main()

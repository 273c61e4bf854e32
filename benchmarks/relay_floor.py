"""The floor for any Python proxy on this machine: a minimal relay that copies bytes both
ways and does nothing else (no framing, no observation), run on its own process.

python benchmarks/relay_floor.py HOST:PORT [--asyncio]   # prints "listening on HOST:PORT"

Default: a thread per direction, blocking sockets (recv, sendall: one system call each per
message, no event loop). `--asyncio`: the same as asyncio Protocols. The round trip it adds
is what a fourth hop written in Python costs before the proxy does any work of its own.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
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


def main() -> None:
    host, port = sys.argv[1].rsplit(":", 1)
    listen = socket.create_server(("127.0.0.1", 0))
    print(f"listening on 127.0.0.1:{listen.getsockname()[1]}", flush=True)
    if "--asyncio" in sys.argv:
        asyncio.run(with_asyncio(listen, (host, int(port))))
    else:
        threaded(listen, (host, int(port)))


if __name__ == "__main__":
    main()

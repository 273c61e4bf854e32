"""A sharded cluster in one process: N shards (each a one-member replica set, a
SandboxServer of its own) and a router listening on its own port in front of them.
`async with ShardedSandbox() as uri:` or `with ThreadedShardedSandbox() as uri:`."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

from ..server import SandboxServer
from ..state import ServerState
from .catalog import Catalog
from .core import RouterCore
from .router import Router
from .shard_client import Shard


class ShardedSandbox:
    """Shards `shard0`…`shardN-1` (replica sets `shard0`… of one member) and a router."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, shards: int = 2) -> None:
        if shards < 1:
            raise ValueError("a sharded cluster needs at least one shard")
        self.host = host
        self.port = port
        self.shards = [SandboxServer("127.0.0.1", 0, f"shard{i}") for i in range(shards)]
        self.core: RouterCore | None = None
        self.router_server: SandboxServer | None = None

    @property
    def uri(self) -> str:
        assert self.router_server is not None
        return self.router_server.uri

    @property
    def listens_everywhere(self) -> bool:
        return self.router_server is not None and self.router_server.listens_everywhere

    @property
    def state(self) -> ServerState:
        """The router's own server state (its connections; its host as clients reach it)."""
        assert self.router_server is not None
        return self.router_server.state

    def states(self) -> list[ServerState]:
        """Each shard's server state (parameters such as enableTestCommands are set there)."""
        return [s.state for s in self.shards]

    def shard_uri(self, name: str) -> str:
        """A shard's own URI (its primary), for a test or a lesson that looks behind the router."""
        return self.shards[int(name.removeprefix("shard"))].uri

    async def start(self) -> str:
        for shard in self.shards:
            await shard.start()
        addresses = {s.replset or "": s.state.host for s in self.shards}
        pool = {
            name: Shard(name, s.host, s.port)
            for name, s in zip(addresses, self.shards, strict=True)
        }
        self.core = RouterCore(Catalog(addresses), pool, coordinations={})
        for name, s in zip(addresses, self.shards, strict=True):
            self.core.shard_fail_points[name] = s.state.fail_points
        router = Router(self.core)
        # The router answers no replica set fields: a URI without replicaSet.
        self.router_server = SandboxServer(self.host, self.port, None, handler=router.handle)
        return await self.router_server.start()

    async def stop(self) -> None:
        if self.router_server is not None:
            await self.router_server.stop()
        if self.core is not None:
            for shard in self.core.shards.values():
                shard.close()
        for s in self.shards:
            await s.stop()

    async def serve_forever(self) -> None:
        assert self.router_server is not None
        await self.router_server.serve_forever()

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class ThreadedShardedSandbox:
    """`with ThreadedShardedSandbox() as uri:` — the cluster on a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, shards: int = 2) -> None:
        self.cluster = ShardedSandbox(host, port, shards)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.uri = ""

    def shard_uri(self, name: str) -> str:
        return self.cluster.shard_uri(name)

    def start(self) -> str:
        started: Future[str] = Future()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                uri = self._loop.run_until_complete(self.cluster.start())
            except BaseException as exc:
                started.set_exception(exc)
                return
            started.set_result(uri)
            self._loop.run_forever()
            self._loop.run_until_complete(self.cluster.stop())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="mongotx-sharded", daemon=True)
        self._thread.start()
        self.uri = started.result(timeout=10)
        return self.uri

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = None
            self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

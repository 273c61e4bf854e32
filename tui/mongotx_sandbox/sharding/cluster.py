"""A sharded cluster in one process: N shards (each a one-member replica set, a
SandboxServer of its own) and a router listening on its own port in front of them.
`async with ShardedSandbox() as uri:` or `with ThreadedShardedSandbox() as uri:`."""

from __future__ import annotations

from ..server import SandboxServer
from ..state import ServerState
from ..threaded import OwnLoop
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
        self.more_routers: list[SandboxServer] = []

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
        # The router answers no replica set fields: a URI without replicaSet.
        self.router_server = self._router(self.core, self.port)
        uri = await self.router_server.start()
        self.port = self.router_server.port
        return uri

    def _router(self, core: RouterCore, port: int) -> SandboxServer:
        return SandboxServer(self.host, port, None, handler=Router(core).handle)

    async def add_router(self) -> str:
        """Another router over the same shards and config catalog (a second mongos): a
        client that lost its router can recover a commit decision through this one."""
        assert self.core is not None
        core = RouterCore(
            self.core.catalog,
            {n: Shard(n, s.host, s.port) for n, s in self.core.shards.items()},
            coordinations=self.core.coordinations,
            shard_fail_points=self.core.shard_fail_points,
            cluster_time=self.core.cluster_time,
        )
        server = self._router(core, 0)
        self.more_routers.append(server)
        return await server.start()

    async def stop_shard(self, name: str) -> None:
        """Stop one shard's server (a participant the router can no longer reach)."""
        await self.shards[int(name.removeprefix("shard"))].stop()

    async def stop(self) -> None:
        for extra in self.more_routers:
            await extra.stop()
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


class ThreadedShardedSandbox(OwnLoop):
    """`with ThreadedShardedSandbox() as uri:` — the cluster on a background thread."""

    thread_name = "mongotx-sharded"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, shards: int = 2) -> None:
        self.cluster = ShardedSandbox(host, port, shards)
        super().__init__(self.cluster)

    def shard_uri(self, name: str) -> str:
        return self.cluster.shard_uri(name)

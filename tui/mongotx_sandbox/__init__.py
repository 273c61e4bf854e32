"""mongotx_sandbox: an in-process server that behaves like a one-member MongoDB replica set.

`async with SandboxServer() as uri:` on the current loop, or `with ThreadedSandbox() as uri:`
on a thread of its own; `ShardedSandbox` / `ThreadedShardedSandbox` for a sharded cluster
(a router in front of shards). Never imports textual or rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import SandboxServer
    from .sharding.cluster import ShardedSandbox, ThreadedShardedSandbox
    from .threaded import ThreadedSandbox

__all__ = ["SandboxServer", "ShardedSandbox", "ThreadedSandbox", "ThreadedShardedSandbox"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package costs nothing until a server is needed.
    if name == "SandboxServer":
        from .server import SandboxServer

        return SandboxServer
    if name == "ThreadedSandbox":
        from .threaded import ThreadedSandbox

        return ThreadedSandbox
    if name in ("ShardedSandbox", "ThreadedShardedSandbox"):
        from .sharding import cluster

        return getattr(cluster, name)
    raise AttributeError(name)

"""mongotx_sandbox: an in-process server that behaves like a one-member MongoDB replica set.

`async with SandboxServer() as uri:` on the current loop, or `with ThreadedSandbox() as uri:`
on a thread of its own. Never imports textual or rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import SandboxServer
    from .threaded import ThreadedSandbox

__all__ = ["SandboxServer", "ThreadedSandbox"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package costs nothing until a server is needed.
    if name == "SandboxServer":
        from .server import SandboxServer

        return SandboxServer
    if name == "ThreadedSandbox":
        from .threaded import ThreadedSandbox

        return ThreadedSandbox
    raise AttributeError(name)

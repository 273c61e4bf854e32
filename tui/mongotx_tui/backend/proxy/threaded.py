"""The proxy on a thread and event loop of its own, so that no UI loop ever delays a
frame (as mongotx_sandbox.ThreadedSandbox runs the sandbox)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future

from ...model.proxy_records import ProxyObserver
from .listener import Proxy
from .observe import Observers
from .upstream import Upstream, parse_upstream


class ProxyHandle:
    """A running proxy: `address` (host:port the application connects to), `observers`
    (append a ProxyObserver at any time; it is called on the proxy's observation
    thread), `members`
    (upstream member → local address), `stop()`."""

    def __init__(self, proxy: Proxy, loop: asyncio.AbstractEventLoop, thread: threading.Thread):
        self._proxy = proxy
        self._loop = loop
        self._thread = thread

    @property
    def address(self) -> str:
        return self._proxy.address

    @property
    def observers(self) -> Observers:
        return self._proxy.observers

    @property
    def upstream(self) -> Upstream:
        return self._proxy.upstream

    @property
    def members(self) -> dict[str, str]:
        return dict(self._proxy.members)

    def app_uri(self, direct: bool = False) -> str:
        """The URI an application uses to go through the proxy."""
        set_name = self._proxy.upstream.set_name
        if direct or not set_name:
            return f"mongodb://{self.address}/?directConnection=true"
        return f"mongodb://{self.address}/?replicaSet={set_name}"

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until the observers have been told of every frame forwarded so far (they
        are called on the proxy's observation thread, a moment after the forwarding)."""
        return self._proxy.feed.flush(timeout)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        stopped = asyncio.run_coroutine_threadsafe(self._proxy.stop(), self._loop)
        try:
            stopped.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> ProxyHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_proxy(
    upstream_uri: str,
    listen: tuple[str, int] = ("127.0.0.1", 27018),
    observers: list[ProxyObserver] | None = None,
    on_member: Callable[[str, str], None] | None = None,
) -> ProxyHandle:
    """Start a proxy to `upstream_uri` listening on `listen`; returns once it listens.
    Raises BadURI (a message without the password) or OSError (the port is taken)."""
    upstream = parse_upstream(upstream_uri)
    obs = Observers()
    for o in observers or ():
        obs.append(o)
    proxy = Proxy(upstream, listen, obs, on_member)
    loop = asyncio.new_event_loop()
    started: Future[None] = Future()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(proxy.start())
        except BaseException as exc:
            started.set_exception(exc)
            loop.close()
            return
        started.set_result(None)
        loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name="mongotx-proxy", daemon=True)
    thread.start()
    started.result(timeout=10)
    return ProxyHandle(proxy, loop, thread)

"""The proxy on a thread and event loop of its own (in the forwarding process, child.py),
as mongotx_sandbox.ThreadedSandbox runs the sandbox."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

from .listener import Proxy


class ThreadedProxy:
    """A started proxy and the thread running its loop; `stop()` ends both."""

    def __init__(self, proxy: Proxy, loop: asyncio.AbstractEventLoop, thread: threading.Thread):
        self.proxy = proxy
        self._loop = loop
        self._thread = thread

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        stopped = asyncio.run_coroutine_threadsafe(self.proxy.stop(), self._loop)
        try:
            stopped.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


def start_threaded(proxy: Proxy) -> ThreadedProxy:
    """Start `proxy` on a new thread; returns once it listens (or raises what its start
    raised: OSError when the port is taken)."""
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
    return ThreadedProxy(proxy, loop, thread)

"""Run a sandbox server on its own thread and event loop (for sync pymongo and other loops)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from . import dispatch
from .server import ELECTION_TIMEOUT_MS, Handler, SandboxServer


class OwnLoop:
    """Runs a server (an object with `start()` returning its URI and `stop()` coroutines)
    on a thread and event loop of its own: `with … as uri:`, or start() and stop()."""

    thread_name = "mongotx-sandbox"

    def __init__(self, served: Any) -> None:
        self._served = served
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.uri = ""

    def start(self) -> str:
        started: Future[str] = Future()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                uri = self._loop.run_until_complete(self._served.start())
            except BaseException as exc:
                started.set_exception(exc)
                return
            started.set_result(uri)
            self._loop.run_forever()
            self._loop.run_until_complete(self._served.stop())
            self._loop.close()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        self.uri = started.result(timeout=10)
        return self.uri

    def call(self, coro_fn, *args):  # type: ignore[no-untyped-def]
        """Run `coro_fn(*args)` on the server's loop and wait for its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro_fn(*args), self._loop).result()

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


class ThreadedSandbox(OwnLoop):
    """`with ThreadedSandbox() as uri:` — a sandbox that lives on a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        replset: str | None = "rs0",
        handler: Handler = dispatch.handle,
        members: int = 1,
        election_timeout_ms: int = ELECTION_TIMEOUT_MS,
    ) -> None:
        self.server = SandboxServer(
            host, port, replset, handler, members=members, election_timeout_ms=election_timeout_ms
        )
        super().__init__(self.server)

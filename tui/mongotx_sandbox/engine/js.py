"""The JavaScript engine behind server-side JavaScript (mapReduce): the one door to it.

MongoDB runs map/reduce/finalize in SpiderMonkey; the sandbox runs them in V8 through the
`mini-racer` package, imported on the first mapReduce only (the sandbox's start-up never pays
for it; its first context costs about 50 ms, each later one a few ms). V8 runs on
mini-racer's own thread: the server's event loop keeps serving other clients meanwhile, and
a call past its time limit, or whose command is killed, is terminated inside V8.

Everything else talks to JsRuntime.call with a string in and a string out, so another
engine can replace this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from types import TracebackType
from typing import Any


class JsUnavailable(Exception):
    """No JavaScript engine could be loaded on this machine."""


class JsTimeout(Exception):
    """A call ran past its time limit and was terminated."""


class JsOutOfMemory(Exception):
    """The runtime's heap reached its limit and the call was terminated."""


class JsFailed(Exception):
    """The engine failed a call for a reason of its own (never the user's code: the scripts
    run by JsRuntime catch their own exceptions and return them as data)."""


_loaded: Any = None


async def _load() -> Any:
    """The mini-racer module, imported and initialised once, off the event loop (loading
    V8's shared library takes tens of milliseconds)."""
    global _loaded
    if _loaded is None:

        def load() -> Any:
            try:
                import py_mini_racer

                py_mini_racer.init_mini_racer(ignore_duplicate_init=True)
            except Exception as exc:  # ImportError, or no V8 build for this platform
                raise JsUnavailable() from exc
            return py_mini_racer

        _loaded = await asyncio.to_thread(load)
    return _loaded


class JsRuntime:
    """One V8 isolate with a heap limit; `async with await JsRuntime.open(...)`."""

    def __init__(self, racer: Any) -> None:
        self._racer = racer

    @classmethod
    async def open(cls, heap_limit_bytes: int) -> JsRuntime:
        module = await _load()
        # Made inside a coroutine, a MiniRacer delivers its results to the running loop.
        racer = module.MiniRacer()
        if heap_limit_bytes > 0:
            racer.set_hard_memory_limit(heap_limit_bytes)
        return cls(racer)

    async def __aenter__(self) -> JsRuntime:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._racer.close()

    async def run(self, script: str, timeout: float | None) -> None:
        """Evaluate `script` (definitions) within `timeout` seconds."""
        await self._eval(script, timeout)

    async def call(self, function: str, argument: str, timeout: float | None) -> str:
        """`function(argument)` for a global function taking and returning a string,
        terminated after `timeout` seconds (JsTimeout) or at the heap limit (JsOutOfMemory).
        Cancelling the awaiting task terminates the call too."""
        # A JSON string literal is a JavaScript string literal (U+2028/9 included since ES2019).
        result = await self._eval(f"{function}({json.dumps(argument)})", timeout)
        if not isinstance(result, str):
            raise JsFailed()
        return result

    async def _eval(self, code: str, timeout: float | None) -> Any:
        import py_mini_racer as mr

        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for returns the result of a call
            # that ends as the task is cancelled, losing a killOp that lands then.
            async with asyncio.timeout(timeout):
                return await self._racer.eval_cancelable(code)
        except TimeoutError as exc:
            raise JsTimeout() from exc
        except mr.JSOOMException as exc:
            raise JsOutOfMemory() from exc
        except mr.JSEvalException as exc:
            if self._racer.was_hard_memory_limit_reached():
                raise JsOutOfMemory() from exc
            raise JsFailed() from exc

"""`start_proxy`: the forwarding in a process of its own (child.py), everything that
decodes and observes in this one (receive.py).

Measured with benchmarks/relay_bench.py: decoding frames and formatting lines holds the
interpreter lock, and in one process the forwarding threads wait for it (and, in the live
view, for the Textual app too). In a child process they share their interpreter with
nothing but the thread shipping copies of the frames to this one.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ...model.proxy_records import ProxyObserver
from ..connection import BadURI
from . import ship
from .observe import Observers
from .receive import Receiver
from .upstream import Upstream, parse_upstream

CHILD = "mongotx_tui.backend.proxy.child"
START_DEADLINE = 60.0  # seconds for the child to listen, on a loaded machine
NOT_STARTED = "the proxy's forwarding process could not start"


class ProxyHandle:
    """A running proxy: `address` (host:port the application connects to), `observers`
    (append a ProxyObserver at any time; it is called on the proxy's observation
    thread), `members` (upstream member → local address), `stop()`."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        receiver: Receiver,
        upstream: Upstream,
        address: str,
    ) -> None:
        self._proc = proc
        self._receiver = receiver
        self._stdin: IO[bytes] = proc.stdin  # type: ignore[assignment]
        self._lock = threading.Lock()  # one command at a time on the child's stdin
        self._flushes = itertools.count(1)
        self.address = address
        self.upstream = upstream
        # Dropped without stop(): the child reads the end of its stdin and stops.
        weakref.finalize(self, _close, self._stdin)

    @property
    def observers(self) -> Observers:
        return self._receiver.observers

    @property
    def members(self) -> dict[str, str]:
        """As of every frame forwarded so far (a hello reply names the members)."""
        self.flush()
        return dict(self._receiver.members)

    def app_uri(self, direct: bool = False) -> str:
        """The URI an application uses to go through the proxy."""
        set_name = self.upstream.set_name
        if direct or not set_name:
            return f"mongodb://{self.address}/?directConnection=true"
        return f"mongodb://{self.address}/?replicaSet={set_name}"

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until the observers have been told of every frame forwarded so far (they
        are called on the proxy's observation thread, a moment after the forwarding)."""
        receiver = self._receiver
        n = next(self._flushes)
        done = receiver.flushes[n] = threading.Event()
        if receiver.done.is_set():
            return True  # the child is gone: everything it shipped has been told
        self._send(f"flush {n}\n")
        return done.wait(timeout)

    def stop(self) -> None:
        """Stop the forwarding; returns once the observers have been told of everything
        it forwarded and the child has ended."""
        self._send("stop\n")
        _close(self._stdin)
        self._receiver.join(timeout=60)
        _reap(self._proc)

    def _send(self, command: str) -> None:
        with self._lock:
            try:
                self._stdin.write(command.encode())
                self._stdin.flush()
            except (OSError, ValueError):  # the child is gone, or stdin already closed
                pass

    def __enter__(self) -> ProxyHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _close(stream: IO[bytes]) -> None:
    try:
        stream.close()
    except OSError:
        pass


def _reap(proc: subprocess.Popen[bytes]) -> int | None:
    """The child's exit status once it has ended (killed if it does not end in time)."""
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=30)


def _spawn() -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parents[3])  # the folder holding mongotx_tui
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
    return subprocess.Popen(
        [sys.executable, "-m", CHILD],  # nothing secret here: `ps` shows it
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # a crash's traceback could quote the URI
        env=env,
    )


def _first(proc: subprocess.Popen[bytes]) -> tuple[object, ...]:
    """The child's first message; OSError if it says nothing in time."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], START_DEADLINE)
    message = ship.read(proc.stdout) if ready else None
    if not isinstance(message, tuple):
        proc.kill()
        proc.wait(timeout=30)
        raise OSError(0, NOT_STARTED)
    return message


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
    proc = _spawn()
    assert proc.stdin is not None and proc.stdout is not None
    config = {"uri": upstream_uri, "host": listen[0], "port": listen[1]}
    try:
        proc.stdin.write(json.dumps(config).encode() + b"\n")
        proc.stdin.flush()
    except OSError:
        pass  # the child is gone already: _first says so
    first = _first(proc)
    if first[0] == ship.ERROR:
        _close(proc.stdin)
        _reap(proc)
        _, kind, errno, text = first
        if kind == "BadURI":
            raise BadURI(str(text))
        raise OSError(int(errno), str(text))  # type: ignore[call-overload]
    _, address, members = first
    receiver = Receiver(proc.stdout, obs, dict(members), on_member, lambda: _reap(proc))  # type: ignore[call-overload]
    receiver.start()
    return ProxyHandle(proc, receiver, upstream, str(address))

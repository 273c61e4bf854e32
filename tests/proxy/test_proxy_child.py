"""The forwarding runs in a child process (backend/proxy/child.py): the URI's password is
never on its command line, it ends with the handle (stopped or dropped), and its death is
told to the observers."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from pathlib import Path

from mongotx_sandbox import ThreadedSandbox
from mongotx_tui.backend.proxy import start_proxy
from mongotx_tui.backend.proxy.collect import Collector

from .conftest import Notices, wait_until

SECRET = "s3cret-Pw7"
CHILD = b"mongotx_tui.backend.proxy.child"


def _children() -> set[int]:
    """This process's children (each thread's: start_proxy may run on any thread)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass  # the thread ended meanwhile
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _proxy_children() -> set[int]:
    return {pid for pid in _children() if CHILD in _cmdline(pid)}


def _gone(pid: int) -> bool:
    return pid not in _children()


def test_the_password_is_not_on_the_child_command_line(sandbox: ThreadedSandbox) -> None:
    host = sandbox.uri.split("//")[1].split("/")[0]
    before = _proxy_children()
    with start_proxy(f"mongodb://app:{SECRET}@{host}/?replicaSet=rs0", ("127.0.0.1", 0)):
        (pid,) = _proxy_children() - before
        assert CHILD in _cmdline(pid)
        assert SECRET.encode() not in _cmdline(pid)
        assert SECRET.encode() not in Path(f"/proc/{pid}/environ").read_bytes()


def test_the_child_ends_when_stopped(sandbox: ThreadedSandbox) -> None:
    before = _proxy_children()
    handle = start_proxy(sandbox.uri, ("127.0.0.1", 0))
    (pid,) = _proxy_children() - before
    handle.stop()
    assert _gone(pid)  # ended and reaped: no orphan, no zombie
    handle.stop()  # a second stop is harmless


def test_the_child_ends_when_the_handle_is_dropped(sandbox: ThreadedSandbox) -> None:
    before = _proxy_children()
    handle = start_proxy(sandbox.uri, ("127.0.0.1", 0))
    (pid,) = _proxy_children() - before
    del handle
    gc.collect()
    wait_until(lambda: _gone(pid))  # its stdin ended: it stopped, the parent reaped it


def test_a_killed_child_is_told_and_stop_returns(
    sandbox: ThreadedSandbox, notices: Notices
) -> None:
    collector = Collector()
    before = _proxy_children()
    handle = start_proxy(sandbox.uri, ("127.0.0.1", 0), [notices, collector])
    (pid,) = _proxy_children() - before
    os.kill(pid, signal.SIGKILL)
    found = notices.wait_for(lambda: [n for n in notices.notices if n.kind == "upstream-down"])
    assert len(found) == 1  # type: ignore[arg-type]
    assert "forwarding process ended unexpectedly" in found[0].message  # type: ignore[index]
    assert handle.flush(timeout=30)  # nothing more will come: a flush does not wait
    handle.stop()
    assert _gone(pid)
    assert len([n for n in notices.notices if n.kind == "upstream-down"]) == 1


PARENT = """
import sys
from mongotx_tui.backend.proxy import start_proxy
handle = start_proxy(sys.argv[1], ("127.0.0.1", 0))
print(handle.address, flush=True)
sys.stdin.read()  # until the test kills this process
"""


def _ended(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever adopted it to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_the_child_ends_when_the_parent_dies(sandbox: ThreadedSandbox) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, sandbox.uri],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline()  # it listens
        (pid,) = wait_until(
            lambda: [
                int(p)
                for task in Path(f"/proc/{parent.pid}/task").iterdir()
                for p in (task / "children").read_text().split()
            ]
        )  # type: ignore[misc]
        assert CHILD in _cmdline(pid)
    finally:
        parent.kill()  # SIGKILL: no stop(), no finalizer; the child's stdin ends
        parent.wait(timeout=60)
    wait_until(lambda: _ended(pid))

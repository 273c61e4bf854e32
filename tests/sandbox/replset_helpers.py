"""A three-member sandbox set on its own thread, and ways to drive it from a test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pymongo import MongoClient

from mongotx_sandbox import ThreadedSandbox

from .rawclient import RawClient

# Short, so a test's election comes quickly; generous deadlines below cover a loaded machine.
ELECTION_TIMEOUT_MS = 300
DEADLINE_SECS = 60.0


class ReplSet:
    """The running set: its members' addresses and the Python controls on its loop."""

    def __init__(self) -> None:
        self.sandbox = ThreadedSandbox(members=3, election_timeout_ms=ELECTION_TIMEOUT_MS)
        self.uri = self.sandbox.start()
        rs = self.sandbox.server.replica_set
        assert rs is not None
        self.rs = rs
        self.hosts = [m.host for m in rs.members]

    def on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` (a coroutine function or a plain one) on the sandbox's loop."""

        async def call() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return self.sandbox.call(call)

    def direct(self, i: int, **kw: Any) -> MongoClient:
        """A client of member `i` alone."""
        return MongoClient(
            f"mongodb://{self.hosts[i]}/?directConnection=true",
            serverSelectionTimeoutMS=10000,
            **kw,
        )

    def raw(self, i: int) -> RawClient:
        return RawClient(f"mongodb://{self.hosts[i]}/")

    def primary_id(self) -> int | None:
        primary = self.rs.primary
        return None if primary is None else primary.id

    def stop(self) -> None:
        self.sandbox.stop()


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Poll a real condition until it holds (a generous deadline, never a fixed sleep)."""
    deadline = time.monotonic() + DEADLINE_SECS
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def rset() -> Iterator[ReplSet]:
    s = ReplSet()
    yield s
    s.stop()


@pytest.fixture
def rclient(rset: ReplSet) -> Iterator[MongoClient]:
    c: MongoClient = MongoClient(rset.uri, serverSelectionTimeoutMS=30000)
    yield c
    c.close()

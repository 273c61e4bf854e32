"""Fixtures: a sandbox on its own thread, and the proxy in front of it with a collector."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from mongotx_sandbox import ThreadedSandbox
from mongotx_tui.backend.proxy import ProxyHandle, start_proxy
from mongotx_tui.backend.proxy.collect import Collector
from mongotx_tui.model.proxy_records import ConnectionNotice, ProxyRecord

DEADLINE = 30.0  # seconds to wait for a condition on a loaded machine


class Notices:
    """A ProxyObserver keeping connection notices and finished records."""

    def __init__(self) -> None:
        self.notices: list[ConnectionNotice] = []
        self.replies: list[ProxyRecord] = []
        self.changed = threading.Condition()

    def command(self, record: ProxyRecord) -> None:
        pass

    def reply(self, record: ProxyRecord) -> None:
        with self.changed:
            self.replies.append(record)
            self.changed.notify_all()

    def connection(self, notice: ConnectionNotice) -> None:
        with self.changed:
            self.notices.append(notice)
            self.changed.notify_all()

    def wait_for(self, what: Callable[[], object]) -> object:
        with self.changed:
            found = self.changed.wait_for(what, timeout=DEADLINE)
        assert found, "the proxy did not report it in time"
        return found


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ThreadedSandbox]:
    server = ThreadedSandbox()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def notices() -> Notices:
    return Notices()


@pytest.fixture
def proxy(
    sandbox: ThreadedSandbox, collector: Collector, notices: Notices
) -> Iterator[ProxyHandle]:
    handle = start_proxy(sandbox.uri, ("127.0.0.1", 0), [collector, notices])
    yield handle
    handle.stop()


def wait_until(what: Callable[[], object]) -> object:
    """Poll a real condition until a generous deadline (no sleep as synchronisation)."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        found = what()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError("condition not met in time")

"""Idle cursors die after cursorTimeoutMillis, except noCursorTimeout ones and, unless
enableTimeoutOfInactiveSessionCursors, those of a session (issue 16 item 4)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from .rawclient import RawClient, new_lsid

DEADLINE = 30.0


@pytest.fixture
def admin(raw: RawClient) -> Iterator[RawClient]:
    """Short timeouts for the test; the defaults back afterwards (the sandbox is shared)."""
    yield raw
    raw.command({"setParameter": 1, "cursorTimeoutMillis": 600_000})
    raw.command({"setParameter": 1, "enableTimeoutOfInactiveSessionCursors": False})


def _open(raw: RawClient, coll: str, **extra: Any) -> int:
    reply = raw.command({"find": coll, "batchSize": 1, **extra}, db="test")
    assert reply["ok"] == 1.0, reply
    return reply["cursor"]["id"]


def _get_more(raw: RawClient, coll: str, cid: int, **extra: Any) -> dict[str, Any]:
    return raw.command({"getMore": cid, "collection": coll, "batchSize": 1, **extra}, db="test")


def _wait_gone(raw: RawClient, coll: str, cid: int, **extra: Any) -> None:
    """getMore until the reaper has killed the cursor (43), with a generous deadline."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        reply = _get_more(raw, coll, cid, **extra)
        if reply.get("code") == 43:
            return
        assert reply["ok"] == 1.0, reply
        time.sleep(0.05)
    raise AssertionError("the idle cursor was never killed")


def test_idle_cursors_time_out_but_not_no_timeout_or_session_ones(
    admin: RawClient, client, coll
) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": i} for i in range(500)])
    name = coll.name
    assert (
        admin.command({"getParameter": 1, "cursorTimeoutMillis": 1})["cursorTimeoutMillis"]
        == 600_000
    )
    plain = _open(admin, name)
    no_timeout = _open(admin, name, noCursorTimeout=True)
    lsid = new_lsid()
    in_session = _open(admin, name, lsid=lsid)
    assert admin.command({"setParameter": 1, "cursorTimeoutMillis": 1})["was"] == 600_000
    _wait_gone(admin, name, plain)
    # The reaper passed over all three: the other two are alive.
    assert _get_more(admin, name, no_timeout)["ok"] == 1.0
    assert _get_more(admin, name, in_session, lsid=lsid)["ok"] == 1.0
    admin.command({"setParameter": 1, "enableTimeoutOfInactiveSessionCursors": True})
    _wait_gone(admin, name, in_session, lsid=lsid)
    assert _get_more(admin, name, no_timeout)["ok"] == 1.0
    admin.command({"killCursors": name, "cursors": [no_timeout]}, db="test")


def test_cursor_timeout_parameters_are_settable(admin: RawClient) -> None:
    reply = admin.command({"setParameter": 1, "cursorTimeoutMillis": 5000})
    assert reply["ok"] == 1.0 and reply["was"] == 600_000
    got = admin.command({"getParameter": 1, "enableTimeoutOfInactiveSessionCursors": 1})
    assert got["enableTimeoutOfInactiveSessionCursors"] is False
    admin.command({"setParameter": 1, "enableTimeoutOfInactiveSessionCursors": True})
    got = admin.command({"getParameter": 1, "enableTimeoutOfInactiveSessionCursors": 1})
    assert got["enableTimeoutOfInactiveSessionCursors"] is True

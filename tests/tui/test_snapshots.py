"""Snapshots of the main states at 80x24 and 120x36 (plain `def` tests: the plugin runs
its own loop). Clock, lsids and the sandbox port are fixed so the SVGs are stable."""

from __future__ import annotations

import fcntl
import itertools
import socket
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

import mongotx_sandbox.clock as sandbox_clock
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config

FROZEN = 1_790_000_000.0  # a fixed wall-clock instant
SIZES = {"80x24": (80, 24), "120x36": (120, 36)}


def _free_port(preferred: int = 47017) -> int:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's server does
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            pytest.skip(f"port {preferred} is busy; snapshots need a fixed port in the header")


@pytest.fixture
def deterministic(monkeypatch):
    # The sandbox's port shows in the header, so every snapshot uses the same one. Test
    # runs on one machine (two checkouts, CI beside a developer's run) take turns at it
    # through a lock file: the second used to find the port busy and skip every snapshot.
    lock = (Path(tempfile.gettempdir()) / "mongotx-tui-snapshot-port.lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    # Distinct ids whose shown part (the first 8 hex digits) is always the same: which lane
    # gets which id depends on pymongo's session pool and the timing of background reads
    # (a pooled server session is reused when one is free), so numbering them was flaky.
    counter = itertools.count(1)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=(0x5E55104D << 96) | next(counter)))
    # The lanes show their sessions' causal clocks (cluster times): the sandbox's clock
    # reads the frozen instant, so its timestamps are the same on every run.
    monkeypatch.setattr(sandbox_clock, "time", SimpleNamespace(time=lambda: FROZEN))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()
    lock.close()  # releases it


def make_app(members: int = 1) -> MongoTxApp:
    return MongoTxApp(
        config=Config(),
        clock=lambda: FROZEN,
        perf=lambda: 0.0,
        sandbox_port=_free_port(),
        members=members,
    )


from mongotx_tui import walkthroughs  # noqa: E402

_started = walkthroughs.started
_conflict = walkthroughs.conflict
_blocked = walkthroughs.blocked
_invalid_editor = walkthroughs.invalid_editor
_help = walkthroughs.help_screen
_scenario_conflict = walkthroughs.scenario_conflict
_commit_retried = walkthroughs.commit_retried
_lane_options = walkthroughs.lane_options


def _committed(pilot):
    return walkthroughs.conflict_then_commit(pilot)


@pytest.mark.parametrize("size", list(SIZES))
def test_started(snap_compare, deterministic, size):
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_started)


@pytest.mark.parametrize("size", list(SIZES))
def test_write_conflict(snap_compare, deterministic, size):
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_conflict)


@pytest.mark.parametrize("size", list(SIZES))
def test_blocked_write(snap_compare, deterministic, size):
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_blocked)


@pytest.mark.parametrize("size", list(SIZES))
def test_invalid_editor(snap_compare, deterministic, size):
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_invalid_editor)


@pytest.mark.parametrize("size", SIZES)
def test_command_monitor(snap_compare, deterministic, size):
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_commit_retried)


def test_help(snap_compare, deterministic):
    assert snap_compare(make_app(), terminal_size=SIZES["120x36"], run_before=_help)


@pytest.mark.parametrize("size", list(SIZES))
def test_committed_after_conflict(snap_compare, deterministic, size):
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_committed)


@pytest.mark.parametrize("size", list(SIZES))
def test_scenario_stepped_to_conflict(snap_compare, deterministic, size):
    """write-conflict loaded with l and stepped with n up to B's WriteConflict."""
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_scenario_conflict)


@pytest.mark.parametrize("size", list(SIZES))
def test_lane_options(snap_compare, deterministic, size):
    """O: the lane's session options (snapshot on, retryWrites off) and its transactions'."""
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_lane_options)


async def _fault_dialog(pilot):
    """The commit preset set (the line under the header shows it), then the dialog open
    again on the retryable-write preset."""
    from mongotx_tui.screens.faults import FaultInjectionScreen

    app = pilot.app
    await walkthroughs.ready(pilot)
    await pilot.press("F")
    await walkthroughs.until(pilot, lambda: isinstance(app.screen, FaultInjectionScreen))
    await pilot.press("f10")
    await walkthroughs.until(pilot, lambda: app.wb.faults.active is not None)
    await walkthroughs.until(pilot, lambda: not isinstance(app.screen, FaultInjectionScreen))
    await pilot.press("F")
    await walkthroughs.until(pilot, lambda: isinstance(app.screen, FaultInjectionScreen))
    await pilot.press("down")
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", list(SIZES))
def test_fault_dialog(snap_compare, deterministic, size):
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_fault_dialog)


@pytest.mark.parametrize("size", list(SIZES))
def test_server_view(snap_compare, deterministic, size):
    """Lane A's transaction, another client's and lane B's createIndexes waiting behind A."""
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=walkthroughs.server_view)


@pytest.mark.parametrize("size", list(SIZES))
def test_presenter_write_conflict(snap_compare, deterministic, size):
    """Presenter mode (P): the caption of B's WriteConflict, no footer or toolbar."""
    run_before = walkthroughs.presenter_conflict
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=run_before)


@pytest.fixture
def frozen_proxy(monkeypatch):
    """The proxy's records carry the frozen instant and take 0 ms, so that the live view's
    times and durations are the same on every run."""
    from mongotx_tui.backend.proxy import observe, receive

    # The forwarding process stamps each frame's arrival, observation the record: here the
    # shipped stamps and the record's clocks are all frozen.
    monkeypatch.setattr(observe, "time", SimpleNamespace(time=lambda: FROZEN, perf_counter=float))
    monkeypatch.setattr(receive, "stamp", lambda at: 0.0)


async def _live_view(pilot, monitor: bool = False):
    """The sample application (tests/tui/sampleapp.py) through a proxy on a fixed port to
    the workbench's sandbox, in the live view."""
    import asyncio

    from sampleapp import sample_app

    from mongotx_tui.backend.proxy import start_proxy
    from mongotx_tui.screens.app_sessions import AppSessionsScreen
    from mongotx_tui.screens.proxy_dialog import open_live_view
    from mongotx_tui.widgets.app_lane import AppLane

    app = pilot.app
    await walkthroughs.ready(pilot)
    upstream = app.wb.sandbox.uri
    listen = ("127.0.0.1", _free_port(47018))
    handle = await asyncio.to_thread(start_proxy, upstream, listen)
    open_live_view(app, handle, owns=True)
    await walkthroughs.until(pilot, lambda: isinstance(app.screen, AppSessionsScreen))
    screen = app.screen
    await asyncio.to_thread(sample_app, handle.app_uri(), upstream)
    await walkthroughs.until(
        pilot,
        lambda: (
            screen.observer.queue.empty()
            and screen.model.connections == 0
            and len(screen.query(AppLane)) == 3
        ),
    )
    if monitor:
        await pilot.press("m")
        head = screen.query_one("#monitor-head")
        await walkthroughs.until(pilot, lambda: bool(str(head.render()).strip()), timeout=30)
    await pilot.pause(0.3)


async def _live_monitor(pilot):
    await _live_view(pilot, monitor=True)


@pytest.mark.parametrize("size", list(SIZES))
def test_live_view(snap_compare, deterministic, frozen_proxy, size):
    """Two conflicting transactions (S2's WriteConflict names S1's), a retried insert and
    a with_transaction retry, each application session a lane."""
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_live_view)


@pytest.mark.parametrize("size", list(SIZES))
def test_live_view_monitor(snap_compare, deterministic, frozen_proxy, size):
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_live_monitor)


@pytest.fixture
def sharded_app(deterministic):
    """The workbench on a sharded sandbox whose router listens on the snapshots' port."""
    from mongotx_tui.backend.connection import start_sharded_sandbox

    cluster, uri = start_sharded_sandbox(port=_free_port())
    yield MongoTxApp(uri, "bank", config=Config(), clock=lambda: FROZEN, perf=lambda: 0.0)
    cluster.stop()


async def _two_phase_commit(pilot):
    """Lane A's transfer alice (shard0) → bob (shard1) with the coordinator stopped after
    prepare, then released: the lane shows both shards prepared and the outcome."""
    from test_sharded_workbench import stop_the_coordinator, transfer_committing, turn_off

    from mongotx_tui.model.lanes import TxnState

    app = pilot.app
    await walkthroughs.ready(pilot)
    a = app.wb.lanes[0]
    await stop_the_coordinator(app, pilot)
    await transfer_committing(app, pilot)
    await walkthroughs.until(pilot, lambda: "prepared on both" in a.shards, 30, "prepared")
    # Released from outside first, then turned off from the dialog once the commit is done:
    # from the dialog alone, its row and the commit's come in either order (both are true:
    # the release lets the commit finish as the reply comes back), and ci-14 saw both.
    from pymongo import AsyncMongoClient

    from mongotx_tui.model.faults import HANG_BEFORE_DECISION
    from mongotx_tui.widgets.timeline import TimelineTable

    async with AsyncMongoClient(app.wb.uri) as other:
        off = {"configureFailPoint": HANG_BEFORE_DECISION, "mode": "off"}
        await other.admin.command(off)
    await walkthroughs.until(pilot, lambda: a.txn_state is TxnState.COMMITTED, 30, "committed")
    await walkthroughs.until(pilot, lambda: "→ committed" in a.shards, 30, "outcome")
    await turn_off(app, pilot)
    rows = app.screen.query_one(TimelineTable)

    def off_row() -> bool:
        return "fail point off" in str(rows.get_row_at(rows.row_count - 1))

    await walkthroughs.until(pilot, off_row, 30, "the off row")
    await pilot.pause()


@pytest.mark.parametrize("size", list(SIZES))
def test_sharded_workbench(snap_compare, sharded_app, size):
    """mongotx-tui --sharded: the header names the shards, lane A its participants, their
    prepareTimestamp and the two-phase commit's outcome."""
    assert snap_compare(sharded_app, terminal_size=SIZES[size], run_before=_two_phase_commit)


@pytest.mark.parametrize("size", SIZES)
def test_members_panel_with_a_paused_secondary(snap_compare, deterministic, size):
    """Issue 13 item 5: `mongotx-tui --members 3`, M, member 1 paused (p)."""
    assert snap_compare(
        make_app(members=3), terminal_size=SIZES[size], run_before=walkthroughs.members_paused
    )


LANE_SIZES = {"80x24": (80, 24), "120x36": (120, 36), "200x50": (200, 50)}


@pytest.mark.parametrize("lanes", [2, 4, 6])
@pytest.mark.parametrize("size", list(LANE_SIZES))
def test_every_lane_at_once(snap_compare, deterministic, size, lanes):
    """Issue 14: every lane shares the width (narrow ones compact, the current one full),
    and each changed document shows its old → new values (`balance: 100 → 90`)."""

    async def walk(pilot):
        await walkthroughs.lanes_demo(pilot, lanes)

    assert snap_compare(make_app(), terminal_size=LANE_SIZES[size], run_before=walk)

"""The live view of an application's sessions (issue 12 item 2), fed with real traffic: a
sample application's pymongo clients (tests/tui/sampleapp.py) through the real proxy
(backend/proxy) to the sandbox, shown in the real app and driven with Pilot keys."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.errors import ServerSelectionTimeoutError
from sampleapp import sample_app
from tuihelpers import click, ready, until

from mongotx_sandbox import ThreadedSandbox
from mongotx_tui.app import MongoTxApp
from mongotx_tui.backend.proxy import ProxyHandle, start_proxy
from mongotx_tui.config import Config
from mongotx_tui.model.app_sessions import AppSessions, TxnStatus
from mongotx_tui.screens.app_sessions import AppSessionsScreen, QueueObserver
from mongotx_tui.widgets.app_lane import AppLane
from mongotx_tui.widgets.monitor import MonitorLines, cells


def fold(observer: QueueObserver, model: AppSessions) -> None:
    while not observer.queue.empty():
        kind, item = observer.queue.get_nowait()
        getattr(model, kind)(item)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with ThreadedSandbox() as uri:
        yield uri


@pytest.fixture
def proxy(upstream: str) -> Iterator[ProxyHandle]:
    with start_proxy(upstream, ("127.0.0.1", 0)) as handle:
        yield handle


def run_sample(proxy: ProxyHandle, upstream: str) -> dict:
    """The sample application through the proxy, its traffic seen by `observer`."""
    return sample_app(proxy.app_uri(), upstream)


def test_sample_application_folds_into_sessions(proxy: ProxyHandle, upstream: str) -> None:
    observer = QueueObserver()
    proxy.observers.append(observer)
    seen = run_sample(proxy, upstream)
    assert seen == {"conflict": 112, "runs": 2}
    proxy.flush()  # observers are told on the proxy's observation thread, a moment later
    model = AppSessions()
    fold(observer, model)
    by_name = {s.name: s for s in model.sessions.values()}
    s1, s2, s3 = by_name["S1"], by_name["S2"], by_name["S3"]
    assert (s1.app_name, s2.app_name, s3.app_name) == ("shop", "billing", "shop")

    # The two conflicting transactions: S2's update gets WriteConflict, naming S1's txn.
    conflict = next(s for s in s2.statements if s.code == 112)
    assert conflict.txn == 1 and conflict.labels == ("TransientTransactionError",)
    assert conflict.conflict_short == "S1 (txn 1)"
    assert conflict.conflict_with == "session S1's open transaction (txn 1) wrote _id 1"
    assert conflict.outcome() == "112 WriteConflict ↔ S1 (txn 1) [TransientTransactionError]"
    assert s1.txns[1].status is TxnStatus.COMMITTED
    assert s2.txns[1].status is TxnStatus.ABORTED

    # The retryable insert: its first attempt got no reply, the driver sent it again.
    inserts = [s for s in s1.statements if s.record.name == "insert"]
    assert [(s.attempt, s.ok) for s in inserts] == [(1, False), (2, True)]
    assert inserts[0].record.outcome().startswith("no reply: the upstream closed")
    assert inserts[0].record.txn_number == inserts[1].record.txn_number

    # with_transaction: txn 2 conflicts with S3's open transaction, txn 3 runs it again.
    assert s2.txns[2].status is TxnStatus.ABORTED
    assert next(st.outcome() for st in s2.statements if st.txn == 2).startswith(
        "112 WriteConflict ↔ S3 (txn 1)"
    )
    assert s2.txns[3].status is TxnStatus.COMMITTED and s2.txns[3].retry_of == 2
    # Statements in a transaction are never numbered as attempts of one another.
    assert all(st.attempt == 1 for st in s2.statements)

    # billing's client closed: endSessions ended its session; databases without admin.
    assert s2.ended and s2.databases == {"shop"}
    assert model.app_names() == ["billing", "shop"]


def test_keep_last_n_counts_the_rest(proxy: ProxyHandle, upstream: str) -> None:
    observer = QueueObserver()
    proxy.observers.append(observer)
    run_sample(proxy, upstream)
    proxy.flush()
    model = AppSessions(keep=2)
    fold(observer, model)
    s2 = next(s for s in model.sessions.values() if s.name == "S2")
    assert s2.total == 6 and len(s2.statements) == 2 and s2.dropped == 4
    assert [st.record.name for st in s2.statements] == ["update", "commitTransaction"]


def wait_for(observer: QueueObserver, model: AppSessions, done, what: str) -> None:  # type: ignore[no-untyped-def]
    """Fold what the proxy hands over until `done(model)`, for up to 30 s."""
    import time

    deadline = time.monotonic() + 30
    while not done(model):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        try:
            kind, item = observer.queue.get(timeout=0.5)
        except Exception:
            continue
        getattr(model, kind)(item)


def test_unacknowledged_write_waits_for_no_reply(proxy: ProxyHandle, upstream: str) -> None:
    """A w:0 insert is sent with moreToCome: no reply comes, and the view waits for none."""
    from pymongo import WriteConcern

    observer = QueueObserver()
    proxy.observers.append(observer)
    model = AppSessions()
    client = MongoClient(proxy.app_uri(), appname="fire", serverSelectionTimeoutMS=10_000)
    try:
        orders = client.shop.get_collection("w0", write_concern=WriteConcern(w=0))
        orders.insert_one({"_id": "fire-and-forget"})
        client.shop.w0.find_one({"_id": "fire-and-forget"})  # acknowledged: it came after
    finally:
        client.close()

    def seen(m: AppSessions) -> bool:
        return any(r.name == "find" and not r.pending for r in m.log)

    wait_for(observer, model, seen, "the find's reply")
    (insert,) = [r for r in model.log if r.name == "insert"]
    assert not insert.expects_reply and not insert.pending
    assert insert.outcome() == "no reply: none expected (moreToCome)"
    assert "lsid" not in insert.command  # pymongo sends no session with w:0
    assert insert.lane == "" and insert.internal


def test_sessions_past_the_limit_forget_the_finished_first(
    proxy: ProxyHandle, upstream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mongotx_tui.model.app_sessions as app_sessions

    monkeypatch.setattr(app_sessions, "MAX_SESSIONS", 4)
    observer = QueueObserver()
    proxy.observers.append(observer)
    client = MongoClient(proxy.app_uri(), serverSelectionTimeoutMS=10_000)
    try:
        sessions = [client.start_session() for _ in range(5)]  # five lsids at once
        for session in sessions[:4]:
            client.shop.orders.find_one({}, session=session)
        client.admin.command("endSessions", [sessions[0].session_id])
        client.shop.orders.find_one({}, session=sessions[4])
    finally:
        client.close()
    model = AppSessions()
    wait_for(observer, model, lambda m: m._named == 5, "five sessions")
    # S1 ended (endSessions, its newest command) and went first, before the older S2.
    assert model.forgotten == 1
    assert [s.name for s in model.sessions.values()] == ["S2", "S3", "S4", "S5"]


def lane_text(lane: AppLane) -> str:
    return "\n".join(str(s.render()) for s in lane.query("Static"))


async def test_live_view_shows_the_sample_application(proxy: ProxyHandle, upstream: str) -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app, pilot)
        screen = AppSessionsScreen(proxy)
        await app.push_screen(screen)
        await asyncio.to_thread(run_sample, proxy, upstream)
        await until(pilot, lambda: screen.observer.queue.empty(), what="all shown")
        await pilot.pause()
        lanes = {lane.session.name: lane for lane in screen.query(AppLane)}
        assert sorted(lanes) == ["S1", "S2", "S3"]
        assert lanes["S2"].border_title == "S2 · billing"
        s2 = lane_text(lanes["S2"])
        assert "112 WriteConflict ↔ S1 (txn 1)" in s2
        assert "txn 3 committed (after txn 2's transient error)" in s2
        assert "ended" in s2
        assert "insert orders _id 3 #2" in lane_text(lanes["S1"])
        header = str(screen.query_one("#ps-header").render())
        assert header.startswith(
            f"proxy {proxy.address} → upstream {proxy.upstream.seed} (plain TCP on the local side)"
        )

        # Filters: one application, then "only sessions with transactions".
        await pilot.press("a")  # billing (the first by name)
        await pilot.pause()
        assert [lane.session.name for lane in screen.query(AppLane)] == ["S2"]
        await pilot.press("a")  # shop: S1 and S3
        await pilot.pause()
        assert [lane.session.name for lane in screen.query(AppLane)] == ["S1", "S3"]
        await pilot.press("a")  # all again, each lane in its place
        await pilot.pause()
        assert [lane.session.name for lane in screen.query(AppLane)] == ["S1", "S2", "S3"]
        await pilot.press("d")
        assert screen.filter.database == "shop"
        await pilot.press("d", "t")
        await pilot.pause()
        assert "only with transactions" in str(screen.query_one("#ps-header").render())

        # The timeline and the monitor list the same traffic.
        rows = [e for e in screen.model.timeline if e.lane == "S2"]
        assert any("WriteConflict ↔ S1 (txn 1)" in e.outcome for e in rows)
        await pilot.press("m")
        lines = screen.query_one(MonitorLines)
        await until(pilot, lambda: bool(lines.records), what="monitor rows")
        shown = [{k: v.plain for k, v in cells(r, lines.colours).items()} for r in lines.records]
        assert {"lane": "S1", "name": "insert #2"}.items() <= next(
            row for row in shown if row["name"] == "insert #2"
        ).items()

        # Clearing finished sessions: the ended ones go (S1 is idle only after a minute).
        await pilot.press("x")
        await pilot.pause()
        assert "S1" in [lane.session.name for lane in screen.query(AppLane)]
        assert "S2" not in [lane.session.name for lane in screen.query(AppLane)]


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_upstream_down_is_said() -> None:
    """A proxy whose upstream is not there: the application's connection is closed, and
    the view says why in a line of its own."""
    dead = f"mongodb://127.0.0.1:{_unused_port()}/?directConnection=true"
    app = MongoTxApp(config=Config())
    with start_proxy(dead, ("127.0.0.1", 0)) as handle:
        async with app.run_test(size=(120, 36)) as pilot:
            await ready(app, pilot)
            screen = AppSessionsScreen(handle)
            await app.push_screen(screen)
            notice = screen.query_one("#ps-notice")
            assert not notice.display

            def ping() -> None:
                client = MongoClient(handle.app_uri(direct=True), serverSelectionTimeoutMS=1500)
                try:
                    client.admin.command("ping")
                except ServerSelectionTimeoutError:
                    pass
                finally:
                    client.close()

            await asyncio.to_thread(ping)
            await until(pilot, lambda: notice.display, what="upstream notice")
            text = str(notice.render())
            assert text.startswith("✗ upstream down: cannot reach the upstream 127.0.0.1:")
            assert "the application's connections are closed" in text


async def test_watch_from_the_connect_dialog_record_and_load() -> None:
    """F2 → Watch an app (proxy) starts a proxy to the workbench's sandbox and opens the
    live view; r records the sample application, r again saves the capture as a scenario
    and offers to load it into the workbench, where it steps by hand."""
    from textual.widgets import Button, Input

    from mongotx_tui.screens.confirm import ConfirmScreen
    from mongotx_tui.screens.proxy_dialog import ProxyScreen

    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("f2")
        await until(pilot, lambda: app.screen.query("#proxy"), what="connect dialog")
        assert str(app.screen.query_one("#proxy", Button).label) == "Watch an app (proxy)"
        await click(pilot, "#proxy")
        await until(pilot, lambda: isinstance(app.screen, ProxyScreen), what="proxy dialog")
        sandbox_uri = app.wb.sandbox.uri
        assert app.screen.query_one("#proxy-uri", Input).value == sandbox_uri
        app.screen.query_one("#proxy-listen", Input).value = "127.0.0.1:0"
        await click(pilot, "#start")
        await until(pilot, lambda: isinstance(app.screen, AppSessionsScreen), what="live view")
        screen = app.screen
        assert screen.owns and screen.proxy is not None

        await pilot.press("r")
        assert screen.collector is not None
        assert "● recording" in str(screen.query_one("#ps-header").render())
        await asyncio.to_thread(sample_app, screen.proxy.app_uri(), sandbox_uri)
        await until(pilot, lambda: len(screen.query(AppLane)) == 3, what="three sessions")
        await pilot.press("r")
        # Where the setup comes from; cancelled, the recording goes on and nothing is lost.
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="setup choice")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="back to the live view")
        assert screen.collector is not None and screen.said == "Still recording: r stops and saves."
        await pilot.press("r")
        # From the upstream, read now (the sandbox's orders).
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="setup choice")
        await click(pilot, "#choice-fetch")
        await until(pilot, lambda: screen.saved is not None, what="capture saved")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="load offer")
        path = screen.saved
        assert path is not None and path.name.startswith("capture-") and path.exists()
        await click(pilot, "#choice-load")
        await until(pilot, lambda: app.wb.play is not None, what="capture loaded")
        assert app.wb.play.scenario.name == path.stem
        assert [lane.name for lane in app.wb.lanes] == ["S1", "S2", "S3"]
        (orders,) = app.wb.play.scenario.setup.collections
        assert orders.name == "orders"
        assert sorted(d["_id"] for d in orders.documents) == [1, 2]  # 3: the capture inserts it

        # The proxy keeps running: F2 brings the live view back, as it was.
        await pilot.press("f2")
        await until(pilot, lambda: app.screen.query("#proxy"), what="connect dialog")
        assert str(app.screen.query_one("#proxy", Button).label) == "Live view"
        await click(pilot, "#proxy")
        await until(pilot, lambda: app.screen is screen, what="live view again")


async def test_lanes_past_the_limit_show_the_most_recent(
    proxy: ProxyHandle, upstream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mongotx_tui.screens.app_sessions as live

    monkeypatch.setattr(live, "MAX_LANES", 2)
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        screen = AppSessionsScreen(proxy)
        await app.push_screen(screen)
        await asyncio.to_thread(run_sample, proxy, upstream)
        await until(pilot, lambda: len(screen.model.sessions) == 3, what="three sessions")
        await until(pilot, lambda: screen.observer.queue.empty(), what="all shown")
        await pilot.pause()
        # S2 and S3 ended last (billing's, then shop's endSessions); S1 has no lane.
        assert [lane.session.name for lane in screen.query(AppLane)] == ["S2", "S3"]
        assert "1 less recent session not shown" in str(screen.query_one("#ps-header").render())


@pytest.mark.parametrize(("size", "width"), [((159, 40), 53), ((100, 30), 33), ((80, 24), 30)])
async def test_lanes_share_the_width_and_scroll_when_they_do_not_fit(
    proxy: ProxyHandle, upstream: str, size: tuple[int, int], width: int
) -> None:
    """Three sessions: each lane an equal share of the width; at 80 columns each keeps 30
    and the row scrolls sideways. (At 100 columns, where three lanes of the workbench's
    minimum 38 do not fit, a `1fr` lane in the scrolling row took the whole width and hid
    the others.)"""
    app = MongoTxApp(config=Config())
    async with app.run_test(size=size) as pilot:
        await ready(app, pilot)
        screen = AppSessionsScreen(proxy)
        await app.push_screen(screen)
        await asyncio.to_thread(run_sample, proxy, upstream)
        await until(pilot, lambda: len(screen.query(AppLane)) == 3, what="three lanes")
        await until(pilot, lambda: screen.observer.queue.empty(), what="all shown")
        await pilot.pause()
        lanes = list(screen.query(AppLane))
        assert [lane.outer_size.width for lane in lanes] == [width] * 3
        row = screen.query_one("#ps-lanes")
        assert (row.virtual_size.width > row.size.width) == (width * 3 > size[0])

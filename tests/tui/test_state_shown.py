"""The state a lane shows is what the server said: the real app, the real embedded
sandbox over a socket, real pymongo, keys pressed with a Pilot. No mocks."""

from __future__ import annotations

from textual.content import Content
from tuihelpers import queue_op, ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.model.ops import OpSpec
from mongotx_tui.widgets.lane import LaneWidget
from mongotx_tui.widgets.render import lane_header


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


def widget(app: MongoTxApp, lane_id: int) -> LaneWidget:
    return app.screen.query_one(f"#lane-{lane_id}", LaneWidget)


def title(app: MongoTxApp, lane_id: int) -> str:
    return Content.from_markup(str(widget(app, lane_id).border_title)).plain


def part(app: MongoTxApp, lane_id: int, selector: str) -> str:
    return str(widget(app, lane_id).query_one(selector).render())


async def test_write_conflict_then_commit_shows_aborted_never_committed():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await walkthroughs.conflict(pilot)
        a, b = app.wb.lanes
        # at once: the title says what the server did, next to the badge
        assert title(app, b.id) == f"Lane B · aborted by server · txn {b.txn_number}"
        header = part(app, b.id, ".lane-header")
        assert "aborted by server" in header and "in progress" not in header
        # t on that lane: MongoDB's rule is to abort the transaction first
        await pilot.press("t")
        await until(pilot, lambda: b.last_error is not None and b.last_error.code is None)
        error = part(app, b.id, ".lane-error")
        assert "Transaction already in progress" in error
        assert "Abort the transaction first (x)" in error and "Do not retry" not in error
        # c: the server answers 251; the lane ends aborted, with the reason
        await pilot.press("c")
        await until(pilot, lambda: b.txn_state is TxnState.ABORTED, what="B aborted")
        assert title(app, b.id) == f"Lane B · aborted · txn {b.txn_number}"
        header = part(app, b.id, ".lane-header")
        assert "aborted: commit failed with 251 NoSuchTransaction" in header
        assert "committed" not in title(app, b.id)
        assert a.txn_state is TxnState.IN_PROGRESS


async def test_g0_scenario_t2_ends_aborted():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "g0")
        play = app.wb.play
        await walkthroughs.next_steps(pilot, play.total)
        await until(pilot, lambda: play.finished, what="the scenario's end")
        assert play.passed
        t1, t2 = (app.wb.lane(play.lane_ids[name]) for name in ("T1", "T2"))
        await until(pilot, lambda: "aborted ·" in title(app, t2.id), what="T2's title")
        assert title(app, t2.id) == f"Lane T2 · aborted · txn {t2.txn_number}"
        assert title(app, t1.id) == f"Lane T1 · committed · txn {t1.txn_number}"


async def test_lifetime_expiry_uses_the_servers_limit_and_finds_out_it_expired():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        assert app.wb.lifetime_limit_s == 60.0  # read with getParameter
        await walkthroughs.load_scenario(pilot, "lifetime-expiry")
        assert app.wb.lifetime_limit_s == 1.0  # the scenario set it: read again
        play = app.wb.play
        a = app.wb.lane(play.lane_ids["A"])
        await walkthroughs.next_steps(pilot, 2)  # startTransaction, the update
        assert a.txn_opened_at is not None
        shown = lane_header(a, a.txn_opened_at + 0.4, app.wb.lifetime_limit_s).plain
        assert "left 1 s of 1 s" in shown
        await until(pilot, lambda: a.txn_state is TxnState.EXPIRED, what="the server's reaper")
        await until(pilot, lambda: "expired" in title(app, a.id))
        assert title(app, a.id) == f"Lane A · expired — aborted by the server · txn {a.txn_number}"
        rows = [(ev.what, ev.outcome) for ev in app.wb.timeline]
        assert (
            f"txn {a.txn_number} expired",
            "expired — aborted by the server (transactionLifetimeLimitSeconds 1 s)",
        ) in rows
        await walkthroughs.next_steps(pilot, 3)  # sleep, the commit (251), C's read
        await until(pilot, lambda: play.finished, what="the scenario's end")
        assert play.passed
        assert a.txn_state is TxnState.ABORTED and "lifetime limit" in a.state_note
        assert title(app, a.id) == f"Lane A · aborted · txn {a.txn_number}"
        await until(pilot, lambda: app.wb.lifetime_limit_s == 60.0, what="the limit restored")


async def test_a_shutdown_error_from_a_fail_point_shows_the_server_code_not_a_repr():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await app.wb.client.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": {"times": 2},  # pymongo retries a retryable write once
                "data": {"failCommands": ["update"], "errorCode": 91},
            }
        )
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.FAILED)
        error = part(app, a.id, ".lane-error")
        assert error.startswith("✗ 91 ShutdownInProgress\n")
        for repr_bit in ("NotPrimaryError", "(client)", "Timestamp(", "b'\\x", "{'"):
            assert repr_bit not in error
        assert "stepping down or shutting down" in error


async def test_the_view_on_page_two_compares_each_document_with_its_committed_version():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await app.wb.client.bank.accounts.insert_many(
            [{"_id": f"u{i:04d}", "n": i} for i in range(250)]
        )
        await pilot.press("f5")
        await until(pilot, lambda: app.wb.page.total == 252, what="252 documents")
        for number in (1, 2):  # one page at a time: a newer paging cancels the one before
            await pilot.press("greater_than_sign")
            await until(pilot, lambda n=number: app.wb.page.number == n, what=f"page {number}")
        a = app.wb.lanes[0]
        await pilot.press("t")
        # queued as the editor would (its find form is not what this test is about)
        app.wb.enqueue(a.id, OpSpec.new("find", filter="{}"))
        app.wb.enqueue(a.id, OpSpec.new("find", filter="{_id: 'bob'}"))
        await pilot.press("r")
        await until(pilot, lambda: all(i.status is OpStatus.DONE for i in a.queue))
        await until(pilot, lambda: a.view is not None and a.view_base is not None)
        await until(pilot, lambda: "inside txn" in part(app, a.id, ".lane-view"))
        view = part(app, a.id, ".lane-view")
        assert view.startswith("inside txn: same as committed"), view[:80]


async def test_a_blocked_write_names_the_lane_it_waits_for():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await walkthroughs.blocked(pilot)
        a, b = app.wb.lanes
        await until(pilot, lambda: b.queue[0].waiting_for)
        # the item's lines wrap to the lane's width: read it as words
        queue = " ".join(str(widget(app, b.id).queue.get_option_at_index(0).prompt).split())
        expected = f"blocked by the server: lane A's open transaction (txn {a.txn_number})"
        assert expected in queue and "?" not in queue


async def test_a_new_lane_on_a_removed_lanes_session_says_where_its_lsid_came_from():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        b = app.wb.lanes[1]
        await pilot.press("right_square_bracket", "t")
        await until(pilot, lambda: b.txn_state is TxnState.STARTING)
        await pilot.press("x")
        await until(pilot, lambda: b.txn_state is TxnState.ABORTED)
        old = b.lsid
        await pilot.press("minus")
        await until(pilot, lambda: len(app.wb.lanes) == 1, what="B removed")
        await pilot.press("plus")
        await until(pilot, lambda: len(app.wb.lanes) == 2)
        c = app.wb.lanes[1]
        await until(pilot, lambda: app.screen.query(f"#lane-{c.id}"))
        await pilot.press("t")
        await until(pilot, lambda: c.txn_state is TxnState.STARTING)
        await pilot.pause()
        header = part(app, c.id, ".lane-header")
        assert c.lsid == old  # pymongo hands back the session returned last
        assert "↺ was lane B's, txn 1 used" in header.splitlines()[0]


async def test_a_300_kb_document_is_queued_from_the_editor_and_inserted():
    """The editor reads it on the fast path (benchmarks/literals_bench.py has the figures)
    and the step's `took` is measured around the server call only."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "benchmarks" / "literals_bench.py"
    spec = importlib.util.spec_from_file_location("literals_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text = bench.mongosh_doc(300)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        # the editor's own form (update), so no form is swapped in while the text lands
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$set: {big: " + text + "}}")
        item = a.queue[0]
        assert item.spec is not None and not item.spec.errors()
        await pilot.press("s")
        await until(pilot, lambda: item.status is OpStatus.DONE, what="the update")
        assert item.duration_ms is not None and item.summary == "matched 1, modified 1"
        bob = await app.wb.client.bank.accounts.find_one({"_id": "bob"})
        assert len(bob["big"]["rows"]) > 1000


async def test_commit_unknown_until_the_retry_settles_it():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "commit-retry")
        play = app.wb.play
        a = app.wb.lane(play.lane_ids["A"])
        await walkthroughs.next_steps(pilot, 4)  # fail point, start, update, commit (64)
        await until(pilot, lambda: "commit unknown" in title(app, a.id))
        assert title(app, a.id) == f"Lane A · commit unknown · txn {a.txn_number}"
        header = part(app, a.id, ".lane-header")
        assert " commit unknown " in header and "retry the commit (c)" in header
        assert "Retry the commit (c)" in part(app, a.id, ".lane-error")
        await walkthroughs.next_steps(pilot, 3)  # C reads 11, A's commit again, C reads 11
        await until(pilot, lambda: play.finished, what="the scenario's end")
        assert play.passed
        await until(pilot, lambda: "committed ·" in title(app, a.id))
        assert "committed: the retried commit settled it" in part(app, a.id, ".lane-header")

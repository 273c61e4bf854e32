"""Issue 14 item 2: Enter on a timeline row opens the step in full, from what the server
answered; notifications stay off the timeline. The real app and sandbox, Pilot keys."""

from __future__ import annotations

from textual.widgets import Static
from tuihelpers import ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.screens.step_detail import StepDetailScreen
from mongotx_tui.widgets.timeline import TimelineTable


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


async def open_row(pilot, app: MongoTxApp, row: int) -> str:
    """Put the timeline's cursor on `row`, press Enter: the details' text."""
    table = app.screen.query_one(TimelineTable)
    table.focus()
    table.move_cursor(row=row, animate=False)
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, StepDetailScreen), what="details")
    await pilot.pause()
    return str(app.screen.query_one("#step-text", Static).render())


async def test_enter_on_the_conflicting_update_shows_the_whole_step():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await walkthroughs.conflict(pilot)
        table = app.screen.query_one(TimelineTable)
        last = table.row_count - 1
        event = table.event_at(last)
        assert event is not None and event.lane == "B" and event.detail is not None
        await until(pilot, lambda: event.detail.after is not None, what="B's state after")
        shown = await open_row(pilot, app, last)
        # the outcome in full: code, codeName, labels, the holder, the advice
        assert "code 112 · codeName WriteConflict" in shown
        assert "TransientTransactionError" in shown
        assert "lane A's open transaction (txn 1)" in shown
        assert "→ Retry the whole transaction" in shown
        # the operation as typed, its options, the command sent and the server's reply
        assert "filter: {_id: 'alice'}" in shown
        assert "update: {$inc: {balance: -20}}" in shown
        assert "transaction: rc:snapshot wc:majority rp:primary" in shown
        assert "→ update on bank" in shown and '"startTransaction": true' in shown
        assert "← 112 WriteConflict [TransientTransactionError]" in shown
        assert '"codeName": "WriteConflict"' in shown  # the reply document itself
        # the lane before and after, as the server's replies left it
        before = shown.split("Lane B before\n", 1)[1]
        assert before.startswith("starting · txn 1")
        after = shown.split("Lane B after\n", 1)[1]
        assert after.startswith("aborted by server · txn 1")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, StepDetailScreen), what="closed")

        # A's update: the document it touched, old → new, and A's view after it
        row_a = next(i for i in range(table.row_count) if "matched 1" in str(table.get_row_at(i)))
        shown = await open_row(pilot, app, row_a)
        assert 'result {\n  "matchedCount": 1,\n  "modifiedCount": 1\n}' in shown
        touched = shown.split("Documents touched\n", 1)[1]
        assert touched.startswith("  ~ 'alice' balance: 100 → 90")
        after = shown.split("Lane A after\n", 1)[1]
        assert after.startswith("in progress · txn 1")
        assert "~ 'alice' balance: 100 → 90" in after


async def test_a_row_without_a_step_shows_the_row_itself():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        shown = await open_row(pilot, app, 0)  # "connect"
        assert shown.startswith("connect\nthe workbench · ")
        assert "sandbox (in this process)" in shown


async def test_notifications_do_not_cover_the_timeline():
    app = make_app()
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(app, pilot)
        app.notify("a long notification\n" * 4, timeout=30)
        await pilot.pause(0.3)
        toasts = list(app.screen.query("Toast"))
        assert toasts
        timeline = app.screen.query_one(TimelineTable).region
        for toast in toasts:
            assert not toast.region.overlaps(timeline), (toast.region, timeline)

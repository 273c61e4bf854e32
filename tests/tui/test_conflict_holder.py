"""A WriteConflict names the lane whose open transaction holds the document (the workbench
knows every lane's writes), on the lane and in the timeline; or says no lane does (issue 11,
item 4). The real app and sandbox, a Pilot."""

from __future__ import annotations

from textual.widgets import Static
from tuihelpers import queue_op, ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus


async def test_a_write_conflict_names_the_lane_that_holds_the_document() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await walkthroughs.conflict(pilot)
        a, b = app.wb.lanes[:2]
        error = b.queue[0].error
        assert error is not None and error.code == 112
        assert error.conflict_with == (
            f"lane A's open transaction (txn {a.txn_number}) wrote _id 'alice'"
        )
        shown = str(app.screen.query_one(f"#lane-{b.id} .lane-error", Static).render())
        assert f"↔ lane A's open transaction (txn {a.txn_number})" in shown
        (row,) = [e for e in app.wb.timeline.after(0) if e.lane == "B" and not e.ok]
        assert row.outcome.startswith(
            f"112 WriteConflict ↔ lane A (txn {a.txn_number}) [TransientTransactionError]"
        )


async def test_a_conflict_with_a_committed_write_names_no_lane() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        b = app.wb.lanes[1]
        # B's snapshot opens first; then a session outside the lanes commits a change
        await pilot.press("right_square_bracket", "t")
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 0}}")
        await pilot.press("s")
        await until(pilot, lambda: b.queue[0].status is OpStatus.DONE)
        await app.wb.client.bank.accounts.update_one({"_id": "alice"}, {"$inc": {"balance": 5}})
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: b.queue[1].status is OpStatus.FAILED)
        error = b.queue[1].error
        assert error is not None and error.code == 112
        assert error.conflict_with.startswith("no open transaction of this workbench's lanes")
        assert error.conflict_lane == ""

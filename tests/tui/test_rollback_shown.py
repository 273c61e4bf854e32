"""A w:1 write that a failover rolls back is shown as rolled back on the lane's step that
made it, and on the timeline (issue 13 item 3): the real app on the embedded 3-member
sandbox, real pymongo, keys pressed with a Pilot. What it says comes from the server: the
sandbox's list of rolled-back writes (the member, the write's optime), matched to the
step whose reply carried that optime as its operationTime."""

from __future__ import annotations

from tuihelpers import click, queue_op, ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus
from mongotx_tui.screens.confirm import ConfirmScreen
from mongotx_tui.widgets.lane import LaneWidget
from mongotx_tui.widgets.members import MembersPanel


async def test_a_w1_update_rolled_back_by_a_forced_step_down_is_shown_on_its_step() -> None:
    app = MongoTxApp(config=Config(), members=3)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("M")
        await until(pilot, lambda: app.screen.query(MembersPanel), what="members panel")
        panel = app.screen.query_one(MembersPanel)
        await until(pilot, lambda: panel.row_count == 3, 20, "three members")
        for row in (1, 2):  # neither secondary gets the w:1 write
            panel.move_cursor(row=row)
            await pilot.press("p")

        def paused() -> bool:
            view = app.wb.members_view
            return view is not None and [m.paused for m in view.members[1:]] == [True, True]

        await until(pilot, paused, 20, "both secondaries paused (as the server says)")
        old = app.wb.members_view.primary.host  # type: ignore[union-attr]

        a = app.wb.lanes[0]
        await queue_op(
            app,
            pilot,
            filter="{_id: 'alice'}",
            update="{$set: {balance: 1}}",
            writeConcern="{w: 1}",
        )
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="A's update")
        assert a.queue[0].error is None and a.queue[0].rolled_back == ""
        await until(pilot, lambda: app.wb.page.docs[0]["balance"] == 1, 20, "the w:1 value shown")

        panel.focus()
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await click(pilot, "#choice-force")  # no secondary has caught up: force it

        await until(pilot, lambda: a.queue[0].rolled_back, 40, "A's step shown rolled back")
        note = a.queue[0].rolled_back
        assert note == f"rolled back on {old}: update bank.accounts _id 'alice'"
        rows = [e for e in app.wb.timeline if e.lane == "A" and "rolled back" in e.outcome]
        assert len(rows) == 1 and not rows[0].ok
        assert rows[0].outcome == note
        assert "update" in rows[0].what and "'alice'" in rows[0].what

        def shown() -> str:  # the lane's first queue item as the screen renders it
            lane = app.screen.query_one(f"#lane-{a.id}", LaneWidget)
            return " ".join(str(lane.queue.get_option_at_index(0).prompt).split())

        await until(pilot, lambda: "rolled back" in shown(), what="the lane's item redrawn")
        # The committed panel showed the w:1 value; the rollback undid it: read again.
        await until(
            pilot,
            lambda: app.wb.page.docs and app.wb.page.docs[0]["balance"] == 100,
            20,
            "the committed panel without the rolled-back update",
        )
        assert "1 ↺ update accounts" in shown() and f"↺ {note}" in shown()


async def test_the_w1_rollback_lesson_marks_its_lost_insert_from_the_restart_reply() -> None:
    """The lesson's own step (sandboxMember restart) answers the rolled-back list: the
    members panel is never opened, and the App lane's w:1 insert is marked from it."""
    app = MongoTxApp(config=Config(), members=3)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "w1-rollback")
        play = app.wb.play
        for _ in range(play.total):
            await pilot.press("n")
            await pilot.pause(0.05)
        await until(pilot, lambda: play.finished, 60, "the lesson finished")
        assert play.passed
        assert not app.screen.query(MembersPanel)
        app_lane = next(lane for lane in app.wb.lanes if lane.name == "App")
        marked = {i.step.index: i.rolled_back for i in app_lane.queue if i.rolled_back}
        primary = app.wb.sandbox.server.replica_set.members[0].host  # the first primary
        assert marked == {4: f"rolled back on {primary}: insert shop.orders _id 'lost'"}

"""The members panel on `mongotx-tui --members 3` (issue 13 item 5): the real app, the
embedded 3-member sandbox over sockets, real pymongo, keys pressed with a Pilot. What the
panel and the lanes show is what the server answered (replSetGetStatus, the replies). The
lessons of three members are stepped in the workbench by test_scenario_workbench.py."""

from __future__ import annotations

from textual.widgets import Select
from tuihelpers import click, queue_op, ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.screens.confirm import ConfirmScreen
from mongotx_tui.screens.lane_options import LaneOptionsScreen
from mongotx_tui.widgets.members import MembersPanel


def make_app(members: int = 3) -> MongoTxApp:
    return MongoTxApp(config=Config(), members=members)


async def open_panel(app: MongoTxApp, pilot) -> MembersPanel:  # type: ignore[no-untyped-def]
    await pilot.press("M")
    await until(pilot, lambda: app.screen.query(MembersPanel), what="members panel")
    panel = app.screen.query_one(MembersPanel)
    await until(pilot, lambda: panel.row_count == 3, 20, "three members")
    return panel


async def test_a_paused_secondary_answers_a_lane_reading_from_secondaries_with_stale_data() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        panel = await open_panel(app, pilot)
        for row in (1, 2):  # both secondaries: whichever the driver picks is stale
            panel.move_cursor(row=row)
            await pilot.press("p")

        def paused() -> bool:
            view = app.wb.members_view
            return view is not None and [m.paused for m in view.members[1:]] == [True, True]

        await until(pilot, paused, 20, "both secondaries paused (as the server says)")
        assert "paused" in str(panel.get_row_at(1)) and "paused" in str(panel.get_row_at(2))

        a, b = app.wb.lanes
        await queue_op(
            app,
            pilot,
            filter="{_id: 'alice'}",
            update="{$set: {balance: 1}}",
            writeConcern="{w: 1}",
        )
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="A's update")
        assert a.queue[0].error is None
        assert "answered by 127.0.0.1:" in a.queue[0].summary
        assert a.queue[0].summary.endswith("(primary)")

        await pilot.press("right_square_bracket")  # lane B
        await pilot.press("O")
        await until(pilot, lambda: isinstance(app.screen, LaneOptionsScreen), what="options")
        app.screen.query_one("#rp", Select).value = "secondary"
        await pilot.press("f10")
        await until(pilot, lambda: b.txn_options.read_preference == "secondary")
        await pilot.press("a")
        await walkthroughs.fill_editor(pilot, kind="findOne", filter="{_id: 'alice'}")
        await pilot.press("s")
        await until(pilot, lambda: b.queue[0].status is OpStatus.DONE, 20, "B's read")
        item = b.queue[0]
        assert item.error is None, item.error
        assert item.result == {"_id": "alice", "name": "Alice", "balance": 100}  # stale
        assert "answered by 127.0.0.1:" in item.summary and item.summary.endswith("(secondary)")
        host = item.summary.split("answered by ")[1].split()[0]
        assert host != app.wb.members_view.primary.host  # type: ignore[union-attr]


async def test_stepping_the_primary_down_aborts_an_open_transaction() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.txn_state is TxnState.IN_PROGRESS, what="A in a txn")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="A's update")

        panel = await open_panel(app, pilot)
        old = app.wb.members_view.primary.host  # type: ignore[union-attr]
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await click(pilot, "#choice-step-down")

        def new_primary() -> bool:
            view = app.wb.members_view
            return view is not None and view.primary is not None and view.primary.host != old

        await until(pilot, new_primary, 30, "a new primary")
        assert "SECONDARY" in str(panel.get_row_at(0))

        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[1].status is OpStatus.FAILED, 30, "A's next statement")
        error = a.queue[1].error
        assert error is not None and "TransientTransactionError" in error.labels
        await pilot.press("x")
        await until(pilot, lambda: a.txn_state is TxnState.ABORTED, what="aborted")
        assert app.wb.page.docs[0]["balance"] == 100  # the first update went with the txn


async def test_a_lesson_of_three_members_is_refused_by_a_one_member_workbench() -> None:
    app = make_app(members=1)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("l")
        from textual.widgets import OptionList

        from mongotx_tui.screens.scenarios import ScenarioPickerScreen

        await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen))
        listing = app.screen.query_one("#picker-list", OptionList)
        await until(pilot, lambda: listing.option_count > 2)
        listing.highlighted = listing.get_option_index("stale-secondary-read")
        listing.focus()
        await pilot.press("enter")

        def told() -> list[str]:
            return [n.message for n in app._notifications if "3 members" in n.message]

        await until(pilot, told, 20, "the refusal")
        assert "needs a replica set of 3 members; this deployment has 1" in told()[0]
        assert app.wb.play is None

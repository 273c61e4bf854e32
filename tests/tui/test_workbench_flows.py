"""Pilot tests: the real app, the real embedded sandbox, real pymongo. No mocks."""

from __future__ import annotations

from tuihelpers import committed_values, queue_op, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


async def test_two_session_write_conflict_end_to_end():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes
        assert committed_values(app)["'alice'"] == "{name: 'Alice', balance: 100}"

        # Lane A: start a transaction; nothing is sent until the first statement.
        await pilot.press("t")
        await until(pilot, lambda: a.txn_state is TxnState.STARTING)
        assert a.view is None
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="A's update")
        assert a.txn_state is TxnState.IN_PROGRESS
        assert a.queue[0].summary == "matched 1, modified 1"
        await until(pilot, lambda: a.view is not None, what="A's view")
        alice_in_a = next(d for d in a.view if d["_id"] == "alice")
        assert alice_in_a["balance"] == 90

        # Lane B: same document in its own transaction → WriteConflict, labelled transient.
        await pilot.press("right_square_bracket", "t")
        await until(pilot, lambda: b.txn_state is TxnState.STARTING)
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -20}}")
        await pilot.press("s")
        await until(pilot, lambda: b.queue[0].status is OpStatus.FAILED, what="B's conflict")
        err = b.queue[0].error
        assert err is not None
        assert (err.code, err.code_name) == (112, "WriteConflict")
        assert err.labels == ("TransientTransactionError",)
        assert err.advice.startswith("Retry the whole transaction")
        assert b.server_aborted is not None
        # The lane shows it: code, codeName, label badge and advice.
        lane_b = app.screen.query_one(f"#lane-{b.id}")
        shown = str(lane_b.query_one(".lane-error").render())
        assert "112 WriteConflict" in shown and "TransientTransactionError" in shown
        assert "Retry the whole transaction" in shown

        # Nothing committed yet: the panel still shows 100.
        assert committed_values(app)["'alice'"] == "{name: 'Alice', balance: 100}"

        # Commit A; the committed panel follows by push.
        await pilot.press("left_square_bracket", "c")
        await until(pilot, lambda: a.txn_state is TxnState.COMMITTED, what="A committed")
        await until(
            pilot,
            lambda: committed_values(app)["'alice'"] == "{name: 'Alice', balance: 90}",
            what="committed panel shows 90",
        )
        # B's commit is refused: the server aborted its transaction.
        await pilot.press("right_square_bracket", "c")
        await until(pilot, lambda: b.txn_state is TxnState.ABORTED, what="B's commit refused")
        assert b.last_error is not None and b.last_error.code == 251
        assert "TransientTransactionError" in b.last_error.labels
        outcomes = [ev.outcome for ev in app.wb.timeline]
        assert any("112 WriteConflict" in o for o in outcomes)
        assert any(o == "committed" for o in outcomes)
        assert any("update" in ev.outcome for ev in app.wb.timeline if ev.lane == "server")


async def test_blocked_write_released_by_commit():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 5}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue and a.queue[0].status is OpStatus.DONE)

        # Lane B, no transaction: the write waits behind A's transaction.
        await pilot.press("right_square_bracket")
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: b.queue[0].waiting, what="B shown as waiting")
        assert b.queue[0].status is OpStatus.RUNNING
        lane_b = app.screen.query_one(f"#lane-{b.id}")
        assert "waiting" in str(lane_b.queue.get_option_at_index(0).prompt)

        # Everything else stays usable: B refuses a second op, A commits.
        await pilot.press("s")
        await pilot.pause()
        assert b.queue[0].status is OpStatus.RUNNING
        await pilot.press("left_square_bracket", "c")
        await until(pilot, lambda: b.queue[0].status is OpStatus.DONE, what="B released")
        assert b.queue[0].in_txn is False
        await until(
            pilot,
            lambda: committed_values(app)["'bob'"] == "{name: 'Bob', balance: 56}",
            what="both writes committed",
        )


async def test_abort_restores_the_view():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$set: {balance: 0}}")
        await pilot.press("s")
        await until(pilot, lambda: a.view is not None, what="view in txn")
        assert next(d for d in a.view if d["_id"] == "alice")["balance"] == 0
        lane = app.screen.query_one(f"#lane-{a.id}")
        assert "~ " in str(lane.query_one(".lane-view").render())
        assert committed_values(app)["'alice'"] == "{name: 'Alice', balance: 100}"

        await pilot.press("x")
        await until(pilot, lambda: a.txn_state is TxnState.ABORTED, what="aborted")
        assert a.view is None
        await pilot.pause(0.2)
        assert committed_values(app)["'alice'"] == "{name: 'Alice', balance: 100}"
        assert "reads the committed state" in str(lane.query_one(".lane-view").render())
        assert app.wb.timeline.last is not None
        assert any(ev.outcome == "aborted" for ev in app.wb.timeline)


async def test_invalid_editor_input_is_flagged_and_kept():
    from textual.widgets import Button, TextArea

    from mongotx_tui.screens.editor import EditorScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        lane = app.wb.lanes[0]
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen))
        editor = app.screen
        field = editor.query_one("#f-filter", TextArea)
        field.focus()
        await pilot.pause()
        field.text = ""
        await pilot.press(*"{_id: ObjectId('zz'),", "enter", *" balance: }")
        await pilot.pause()
        typed = "{_id: ObjectId('zz'),\n balance: }"
        assert field.text == typed
        error = str(editor.query_one("#e-filter").render())
        assert "line 1, column 7" in error and "24 hex digits" in error
        assert field.has_class("-invalid")
        assert editor.query_one("#queue", Button).disabled
        await pilot.press("f10")  # refused: nothing queued, nothing lost
        await pilot.pause()
        assert isinstance(app.screen, EditorScreen)
        assert field.text == typed
        assert lane.queue == []

        # Fix the ObjectId: the error moves to the real problem, line 2.
        field.text = "{_id: ObjectId('64b7f0c2a1b2c3d4e5f60718'),\n balance: }"
        await pilot.pause()
        error = str(editor.query_one("#e-filter").render())
        assert "line 2, column 11" in error

        # Switching kinds keeps what was typed.
        field.text = "{_id: 'alice', n: NumberLong(5), d: ISODate('2024-01-02')}"
        await pilot.pause()
        assert not editor.query_one("#queue", Button).disabled
        await pilot.press("f10")
        await until(pilot, lambda: not isinstance(app.screen, EditorScreen))
        assert len(lane.queue) == 1
        values = lane.queue[0].spec.values()
        assert values["filter"]["n"] == 5 and values["filter"]["d"].year == 2024

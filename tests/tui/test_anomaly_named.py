"""A write skew built by hand in the workbench is named on the timeline as it commits
(backend.anomaly_watch over model.anomalies): the real app, the embedded sandbox, keys."""

from __future__ import annotations

from textual.widgets import Input, Static
from tuihelpers import queue_op, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.screens.diagram import DiagramScreen
from mongotx_tui.widgets.timeline import TimelineTable


async def test_a_hand_built_write_skew_is_named_as_it_commits(tmp_path) -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes[:2]
        # both read both accounts in their transactions...
        for lane, key in ((a, None), (b, "right_square_bracket")):
            if key:
                await pilot.press(key)
            await pilot.press("t")
            await queue_op(app, pilot, kind="find", filter="{}")
            await pilot.press("s")
            await until(pilot, lambda lane=lane: lane.queue[-1].status is OpStatus.DONE)
        # ...and each takes from a different one
        await pilot.press("left_square_bracket")
        await queue_op(
            app, pilot, kind="update", filter="{_id: 'alice'}", update="{$inc: {balance: -100}}"
        )
        await pilot.press("s")
        await until(pilot, lambda: a.queue[-1].status is OpStatus.DONE)
        await pilot.press("right_square_bracket")
        await queue_op(
            app, pilot, kind="update", filter="{_id: 'bob'}", update="{$inc: {balance: -50}}"
        )
        await pilot.press("s")
        await until(pilot, lambda: b.queue[-1].status is OpStatus.DONE)
        await pilot.press("left_square_bracket", "c")
        await until(pilot, lambda: a.txn_state is TxnState.COMMITTED, what="A committed")
        assert not [e for e in app.wb.timeline if e.what.startswith("anomaly")]
        await pilot.press("right_square_bracket", "c")
        await until(pilot, lambda: b.txn_state is TxnState.COMMITTED, what="B committed")
        [named] = [e for e in app.wb.timeline if e.what.startswith("anomaly")]
        assert named.what == "anomaly G2-item"
        ta, tb = f"A txn {a.txn_number}", f"B txn {b.txn_number}"
        assert named.outcome == f"write skew: {ta} ─rw→ {tb} ─rw→ {ta}"
        before = next(e for e in app.wb.timeline if e.seq == named.seq - 1)
        assert (before.lane, before.what) == ("B", f"commitTransaction txn {b.txn_number}")
        # and the timeline shows it
        table = app.screen.query_one(TimelineTable)
        await until(pilot, lambda: table.shown_seq >= named.seq, what="row shown")
        assert any("write skew" in str(c) for c in table.get_row(str(named.seq)))
        # D exports the history: a wrong extension is said in the dialog, which stays
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, DiagramScreen), what="dialog")
        app.screen.query_one("#diagram-path", Input).value = str(tmp_path / "skew.png")
        await pilot.press("enter")
        problem = str(app.screen.query_one("#diagram-problem", Static).render())
        assert problem == "The file name must end in .svg, .md or .txt (not .png)"
        app.screen.query_one("#diagram-path", Input).value = str(tmp_path / "skew.md")
        await pilot.press("enter")
        out = tmp_path / "skew.md"
        await until(pilot, out.exists, what="diagram written")
        text = out.read_text(encoding="utf-8")
        assert "participant L1 as A" in text and "participant L2 as B" in text
        assert f"Note over L1,L2: G2-item (write skew): {ta} ─rw→ {tb}" in text
        assert 'L1--)L2: rw accounts/"bob"' in text  # A read bob, B wrote it
        assert '{"_id": "alice", "name": "Alice", "balance": 0}' in text


async def test_the_write_conflict_that_prevented_a_lost_update_is_named() -> None:
    """Both read alice; A writes it; B's write gets a WriteConflict; A commits. Had B
    committed too, its update would have overwritten A's from a stale read (G-single)."""
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes[:2]
        for lane, key in ((a, None), (b, "right_square_bracket")):
            if key:
                await pilot.press(key)
            await pilot.press("t")
            await queue_op(app, pilot, kind="findOne", filter="{_id: 'alice'}")
            await pilot.press("s")
            await until(pilot, lambda lane=lane: lane.queue[-1].status is OpStatus.DONE)
        for lane, key in ((a, "left_square_bracket"), (b, "right_square_bracket")):
            await pilot.press(key)
            await queue_op(
                app, pilot, kind="update", filter="{_id: 'alice'}", update="{$inc: {balance: -1}}"
            )
            await pilot.press("s")
            await until(pilot, lambda lane=lane: lane.queue[-1].status.value in ("done", "failed"))
        assert b.queue[-1].error is not None and b.queue[-1].error.code == 112
        await pilot.press("left_square_bracket", "c")
        await until(pilot, lambda: a.txn_state is TxnState.COMMITTED, what="A committed")
        [named] = [e for e in app.wb.timeline if e.what.startswith(("anomaly", "prevented"))]
        ta, tb = f"A txn {a.txn_number}", f"B txn {b.txn_number}"
        assert named.what == "prevented G-single"
        assert named.outcome.startswith(f"{tb}'s WriteConflict: ")
        assert "─rw→" in named.outcome and "─ww→" in named.outcome and ta in named.outcome

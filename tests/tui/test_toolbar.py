"""The lane toolbar's labels do what the keys they name do (keys.py's table, by key id)."""

from __future__ import annotations

from tuihelpers import ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.keys import KEY_ACTIONS
from mongotx_tui.model.lanes import TxnState
from mongotx_tui.widgets.lane import LANE_BUTTONS, LaneToolbar, LaneWidget


async def click_label(pilot, toolbar: LaneToolbar, label: str) -> None:
    x = str(toolbar.render()).index(label)  # its text, label by label
    x += toolbar.styles.padding.left
    await pilot.click(toolbar, offset=(x, 0))


def test_every_label_names_a_key() -> None:
    assert all(key_id in KEY_ACTIONS for key_id, _ in LANE_BUTTONS)


async def test_txn_and_commit_labels_start_and_commit_the_lanes_transaction() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        lane_b = app.wb.lanes[1]
        widget = next(w for w in app.screen.query(LaneWidget) if w.lane.id == lane_b.id)
        toolbar = widget.query_one(LaneToolbar)
        await click_label(pilot, toolbar, "Txn")
        await until(pilot, lambda: lane_b.txn_state is TxnState.STARTING, what="txn started")
        assert app.wb.lanes[0].txn_state is TxnState.NONE  # the clicked lane's, not lane A's
        await click_label(pilot, toolbar, "Commit")
        await until(pilot, lambda: lane_b.txn_state is TxnState.COMMITTED, what="committed")
        assert "empty" in lane_b.state_note

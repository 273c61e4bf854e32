"""The workbench on a sharded cluster (issue 15 item 4): the header names the router's
shards (listShards), a lane's transaction shows its participants and, with the coordinator
stopped after prepare (the fault dialog's preset), both shards prepared with their
prepareTimestamp; the server view lists the prepared transaction; a read in another lane
waits behind it and is released when the fail point is turned off, and the lane shows the
two-phase commit's outcome. The real app, a sharded sandbox over sockets, a Pilot."""

from __future__ import annotations

from textual.widgets import OptionList
from tuihelpers import queue_op, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.faults import HANG_BEFORE_DECISION, presets
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.screens.faults import FaultInjectionScreen
from mongotx_tui.screens.server_view import ServerViewScreen

STOP = next(i for i, p in enumerate(presets()) if p.id == "coordinator-stop")


async def stop_the_coordinator(app: MongoTxApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("F")
    await until(pilot, lambda: isinstance(app.screen, FaultInjectionScreen), what="dialog")
    options = app.screen.query_one("#faults-presets", OptionList)
    for _ in range(STOP):
        await pilot.press("down")
    await until(pilot, lambda: options.highlighted == STOP, what="preset highlighted")
    await pilot.press("f10")
    await until(pilot, lambda: not isinstance(app.screen, FaultInjectionScreen), what="set")


async def turn_off(app: MongoTxApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("F")
    await until(pilot, lambda: isinstance(app.screen, FaultInjectionScreen), what="dialog")
    await pilot.press("f9")
    await until(pilot, lambda: not isinstance(app.screen, FaultInjectionScreen), what="off")


async def transfer_committing(app: MongoTxApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """Lane A moves 10 from alice (shard0) to bob (shard1) and commits."""
    a = app.wb.lanes[0]
    await pilot.press("t")
    await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
    await pilot.press("s")
    await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="alice")
    await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 10}}")
    await pilot.press("s")
    await until(pilot, lambda: a.queue[1].status is OpStatus.DONE, what="bob")
    await until(pilot, lambda: a.shards.startswith("shards: shard0, shard1"), what="participants")
    await pilot.press("c")


async def test_two_phases_shown_and_a_read_released_after_prepare(router_uri: str) -> None:
    app = MongoTxApp(router_uri, "bank", config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        assert app.wb.deployment is not None
        assert app.wb.deployment.shards == ("shard0", "shard1")  # listShards' answer
        assert "router · 2 shards: shard0, shard1" in app.wb.deployment.describe()
        a, b = app.wb.lanes[:2]
        await stop_the_coordinator(app, pilot)
        sent = [r for r in app.wb.monitor.log if r.name == "configureFailPoint"]
        assert sent[-1].command["configureFailPoint"] == HANG_BEFORE_DECISION
        await transfer_committing(app, pilot)
        # Phase one, from the shards' $currentOp: both participants prepared.
        await until(pilot, lambda: "prepared on both at" in a.shards, 30, "prepared")
        assert a.busy and a.txn_state is TxnState.IN_PROGRESS  # the commit has no reply yet

        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, ServerViewScreen), what="view")
        view = app.screen
        await until(pilot, lambda: view.cluster is not None and view.cluster.prepared(), 30)
        (prepared,) = view.cluster.prepared()
        assert prepared.lane == "A" and [p.shard for p in prepared.prepared] == ["shard0", "shard1"]
        assert all(p.prepare_ts is not None for p in prepared.participants)
        assert "Prepared transactions: 1" in str(view.query_one("#sv-cluster").render())
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ServerViewScreen), what="back")

        # Lane B's snapshot transaction reads bob, prepared on shard1: the read waits.
        await pilot.press("right_square_bracket")
        await pilot.press("t")
        await queue_op(app, pilot, kind="findOne", filter="{_id: 'bob'}")
        await pilot.press("s")
        await until(pilot, lambda: b.shards == "shards: shard1", 30, "B's read on shard1")
        assert b.queue[0].status is OpStatus.RUNNING and a.busy  # still waiting, both

        await turn_off(app, pilot)
        await until(pilot, lambda: a.txn_state is TxnState.COMMITTED, 30, "A committed")
        await until(pilot, lambda: b.queue[0].status is OpStatus.DONE, 30, "B's read answered")
        assert b.queue[0].result == {"_id": "bob", "name": "Bob", "balance": 60}
        await until(pilot, lambda: "→ committed (two-phase commit)" in a.shards, 30, "outcome")

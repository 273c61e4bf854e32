"""The recovery-token lesson (issue 15 item 5) played in the workbench on a sharded
cluster, in place: A's commit waits with both shards prepared, the `recoverCommit` step
commits A's transaction with its recovery token through a new router connection while A's
own commit still waits, and both finish once the coordinator's fail point is off. The real
app, a sharded sandbox over sockets, a Pilot."""

from __future__ import annotations

from tuihelpers import ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import TxnState
from mongotx_tui.scenario import load_scenario


async def test_the_lesson_plays_in_the_workbench(router_uri: str) -> None:
    app = MongoTxApp(router_uri, "bank", config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        lesson = load_scenario("commit-recovered-with-token")
        scenario, _ = await app.wb.plan_scenario(lesson, in_place=True)
        await app.wb.load_scenario(scenario, allow_drop={"bank.accounts"})
        play = app.wb.play
        await until(pilot, lambda: app.screen.query("LaneWidget"), what="lanes")
        await walkthroughs.next_steps(pilot, play.total)
        await until(pilot, lambda: play.finished, 30, "finished")
        assert play.checks == {i: "" for i in range(1, 13)}, play.checks
        assert play.passed
        a = app.wb.lanes[0]
        assert a.name == "A" and a.txn_state is TxnState.COMMITTED
        rows = [e.outcome for e in app.wb.timeline if "new connection" in e.outcome]
        assert rows and "committed through a new connection to" in rows[0]


async def test_on_the_cluster_it_started_a_lesson_loads_from_the_dialog_in_its_database(
    router_uri: str,
) -> None:
    """`mongotx-tui --sharded`: the cluster is the app's own, as the embedded sandbox is. A
    lesson loaded from the dialog (no "in place") runs in the database its raw commands
    name (enableSharding bank, moveChunk bank.accounts), so its commit is two-phase; before,
    it ran in mongotx_bank while its commands sharded bank, and the lesson failed."""
    app = MongoTxApp(router_uri, "bank", config=Config(), own_uri=router_uri)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "read-waits-behind-prepare")
        play = app.wb.play
        assert app.wb.db == "bank"
        await walkthroughs.next_steps(pilot, play.total)
        await until(pilot, lambda: play.finished, 30, "finished")
        assert play.passed, play.checks

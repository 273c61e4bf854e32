"""The command monitor lists what pymongo's command monitoring reported, attributed to the
lane whose session sent it: the real app, the embedded sandbox over a socket, real
pymongo, keys pressed with a Pilot (issue 11, item 1)."""

from __future__ import annotations

from tuihelpers import queue_op, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.model.monitor import CommandLog, CommandRecord
from mongotx_tui.screens import workbench_screen
from mongotx_tui.screens.dialogs import DocumentScreen
from mongotx_tui.widgets.monitor import MonitorLines, cells
from mongotx_tui.widgets.timeline import TimelineTable


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


def rows(lines: MonitorLines) -> list[dict[str, str]]:
    """Each listed record's cells as column key → text."""
    return [{k: v.plain for k, v in cells(r, lines.colours).items()} for r in lines.records]


def screen_text(lines: MonitorLines) -> str:
    """What the lines show on screen now."""
    return "\n".join(lines.render_line(y).text for y in range(lines.size.height))


async def test_a_commit_retried_by_the_driver_is_two_attempts_of_one_step() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE)
        # The commit's first reply is lost: pymongo retries commitTransaction once.
        await app.wb.client.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": {"times": 1},
                "data": {"failCommands": ["commitTransaction"], "closeConnection": True},
            }
        )
        await pilot.press("c")
        await until(pilot, lambda: a.txn_state is TxnState.COMMITTED, what="A committed")

        assert app.wb.monitor is not None
        commits = [r for r in app.wb.monitor.log if r.name == "commitTransaction"]
        assert [(r.lane, r.attempt, r.ok) for r in commits] == [("A", 1, False), ("A", 2, True)]
        assert commits[0].failure and commits[0].reply is None  # no reply came
        assert commits[0].step_id == commits[1].step_id
        assert commits[0].txn_number == commits[1].txn_number == a.txn_number
        (row,) = [e for e in app.wb.timeline.after(0) if e.what.startswith("commitTransaction")]
        assert row.outcome == "committed · retried by the driver ×1"  # noqa: RUF001

        await pilot.press("m")
        table = app.screen.query_one(MonitorLines)
        await until(pilot, lambda: len(table.records) >= 3, what="monitor rows")
        shown = rows(table)
        names = [r["name"] for r in shown]
        assert "update" in names and "commitTransaction" in names
        assert "commitTransaction #2" in names
        retried = shown[names.index("commitTransaction #2")]
        assert retried["lane"] == "A" and retried["reply"] == "ok"
        first = shown[names.index("commitTransaction")]
        assert first["reply"].startswith("no reply: AutoReconnect")
        # The lane's own traffic only: the fail point and the panels' reads are hidden.
        assert "configureFailPoint" not in names and "find" not in " ".join(names)

        shown_now = screen_text(table)
        assert "commitTransaction #2" in shown_now and "no reply: AutoReconnect" in shown_now
        table.cursor = names.index("commitTransaction #2")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DocumentScreen), what="details")
        screen = app.screen
        assert isinstance(screen, DocumentScreen)
        assert "attempt 2 (sent again by the driver)" in screen.title_text
        assert screen.doc["commitTransaction"] == 1 and "lsid" in screen.doc
        assert '"txnNumber"' in screen.json
        await pilot.press("escape")


async def test_the_filters_show_one_lane_or_the_workbench_s_own_traffic_too() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes[:2]
        await queue_op(app, pilot, filter="{_id: 'alice'}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE)
        await pilot.press("right_square_bracket")
        await queue_op(app, pilot, filter="{_id: 'bob'}")
        await pilot.press("s")
        await until(pilot, lambda: b.queue[0].status is OpStatus.DONE)

        await pilot.press("m")
        table = app.screen.query_one(MonitorLines)
        await until(pilot, lambda: len(table.records) == 2, what="both lanes' updates")
        assert [r["lane"] for r in rows(table)] == ["A", "B"]
        await pilot.press("f")  # lane A only
        await until(pilot, lambda: len(table.records) == 1)
        assert rows(table)[0]["lane"] == "A"
        assert "lane A" in str(app.screen.query_one("#monitor").border_subtitle)
        await pilot.press("f", "f")  # lane B, then all lanes again
        await until(pilot, lambda: len(table.records) == 2)
        await pilot.press("i")  # and the workbench's own: the panels' reads, hello…
        await until(pilot, lambda: len(table.records) > 2)
        assert any(r["lane"] == "·" for r in rows(table))
        # m again: the timeline is back in its place
        await pilot.press("m")
        assert not app.screen.query_one("#monitor").display
        assert app.screen.query_one("#timeline").display


async def test_the_monitor_is_drawn_with_the_step_s_lane_update(monkeypatch) -> None:
    """The monitor is shown in the screen update that draws the lanes, not on a timer of its
    own (that put a second screen update on the keypress → step shown path, tui_bench). The
    timer, kept for traffic alone, is made to never fire here."""
    monkeypatch.setattr(workbench_screen, "MONITOR_EVERY_S", 3600)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await queue_op(app, pilot, filter="{_id: 'alice'}")
        await pilot.press("m")
        lines = app.screen.query_one(MonitorLines)
        lane = app.wb.lanes[0]
        await pilot.press("s")
        await until(pilot, lambda: lane.queue[0].status is OpStatus.DONE, what="the step")
        await until(pilot, lambda: [(r.lane, r.name) for r in lines.records] == [("A", "update")])


async def test_the_hidden_timeline_shows_its_rows_when_it_comes_back() -> None:
    """While the monitor is in its place the timeline is not given rows (each one re-laid
    out the screen inside a keypress); shown again, it has every row, in order."""
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        table = app.screen.query_one(TimelineTable)
        for n in range(2):
            await queue_op(app, pilot, filter=f"{{_id: 'x{n}'}}")
        await pilot.press("m")
        lane = app.wb.lanes[0]
        for n in range(2):
            await pilot.press("s")
            await until(pilot, lambda n=n: lane.queue[n].status is OpStatus.DONE)
        hidden = table.row_count
        model = [ev.what for ev in app.wb.timeline.after(0)]
        assert table.row_count < len(model)
        await pilot.press("m")
        assert table.display and table.row_count > hidden
        shown = [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]
        assert shown == model[-len(shown) :]
        assert sum("x0" in w for w in shown) == 1 and sum("x1" in w for w in shown) == 1


def test_a_step_s_records_are_found_by_its_id_while_the_log_keeps_them() -> None:
    log = CommandLog()
    keep = log.records.maxlen
    assert keep is not None

    def record(step_id: int) -> CommandRecord:
        return CommandRecord(0, 0.0, "find", "bank", {}, lane_id=1, step_id=step_id)

    first = [log.add(record(1)), log.add(record(2)), log.add(record(1))]
    assert log.of_step(1) == [first[0], first[2]] and log.of_step(2) == [first[1]]
    assert log.of_step(0) == [] and log.of_step(3) == []
    for _ in range(keep - 1):  # the log drops its two oldest: step 1's first, step 2's
        log.add(record(0))
    assert log.of_step(1) == [first[2]] and log.of_step(2) == []
    assert log.of_step(1) == [r for r in log if r.step_id == 1]  # what a scan finds


async def test_a_read_retried_by_the_driver_is_two_attempts_of_one_step() -> None:
    from mongotx_tui.model.ops import OpSpec

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        item = app.wb.enqueue(a.id, OpSpec.new("findOne", filter="{_id: 'alice'}"))
        await pilot.pause()
        # The read's first attempt loses its connection: pymongo retries it once
        # [manual: Retryable Reads]. Nothing else reads while the workbench is idle.
        await app.wb.client.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": {"times": 1},
                "data": {"failCommands": ["find"], "closeConnection": True},
            }
        )
        await pilot.press("s")
        await until(pilot, lambda: item.status is OpStatus.DONE, what="the read")
        assert item.summary.endswith("retried by the driver ×1")  # noqa: RUF001
        assert app.wb.monitor is not None
        finds = [r for r in app.wb.monitor.log if r.name == "find" and not r.internal]
        assert [(r.lane, r.attempt, r.ok) for r in finds] == [("A", 1, False), ("A", 2, True)]
        assert finds[0].step_id == finds[1].step_id

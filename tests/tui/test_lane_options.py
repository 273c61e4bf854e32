"""Session and operation options (issue 11, item 5): the lane options dialog (O) and the
editor's per-operation options, on the real app, the embedded sandbox over a socket and
real pymongo; what was sent is read from the command monitor's records."""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox
from tuihelpers import ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import Lane, OpStatus
from mongotx_tui.model.ops import UNACKNOWLEDGED
from mongotx_tui.screens.lane_options import LaneOptionsScreen
from mongotx_tui.walkthroughs import queue_op
from mongotx_tui.widgets.render import lane_header


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


async def set_options(pilot: Any, **switches: bool) -> None:
    """O on the current lane, set the switches (causal, snapshot, retry), apply (F10)."""
    app = pilot.app
    await pilot.press("O")
    await until(pilot, lambda: isinstance(app.screen, LaneOptionsScreen), what="dialog")
    for key, value in switches.items():
        app.screen.query_one(f"#lo-{key}", Checkbox).value = value
        await pilot.pause()
    await pilot.press("f10")
    await until(pilot, lambda: not isinstance(app.screen, LaneOptionsScreen), what="closed")


async def run_next(pilot: Any, lane: Lane, key: str = "s") -> Any:
    """Press `key` and wait for the lane's next pending item to end."""
    item = lane.next_pending
    assert item is not None
    await pilot.press(key)
    await until(pilot, lambda: item.status in (OpStatus.DONE, OpStatus.FAILED), what="step")
    return item


def sent(app: MongoTxApp, lane: Lane, name: str) -> list[Any]:
    """The lane's commands of that name, as the monitor recorded them."""
    assert app.wb.monitor is not None
    return [r for r in app.wb.monitor.log if r.lane_id == lane.id and r.name == name]


async def fail_next(app: MongoTxApp, command: str, **data: Any) -> None:
    await app.wb.client.admin.command(
        {
            "configureFailPoint": "failCommand",
            "mode": {"times": 1},
            "data": {"failCommands": [command], **data},
        }
    )


async def test_retry_writes_off_shows_the_error_the_driver_would_hide() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes[:2]
        # Lane A, retryWrites on (pymongo's default): the driver retries the insert.
        await fail_next(app, "insert", errorCode=91)
        await queue_op(pilot, kind="insert", document="{_id: 'carol'}")
        item = await run_next(pilot, a)
        assert item.error is None, item.error
        assert "retried by the driver ×1" in item.summary  # noqa: RUF001
        assert [r.attempt for r in sent(app, a, "insert")] == [1, 2]

        # Lane B, retryWrites off: a client of its own; the 91 reaches the lane.
        await pilot.press("right_square_bracket")
        await set_options(pilot, retry=False)
        assert not b.options.retry_writes
        assert app.wb.runner(b.id).client is not app.wb.client
        await fail_next(app, "insert", errorCode=91)
        await queue_op(pilot, kind="insert", document="{_id: 'dave'}")
        item = await run_next(pilot, b)
        assert item.error is not None
        assert (item.error.code, item.error.code_name) == (91, "ShutdownInProgress")
        inserts = sent(app, b, "insert")  # the lane's own client is monitored too
        assert [r.attempt for r in inserts] == [1] and inserts[0].ok is False
        # Without retryable writes pymongo sends no txnNumber, and the server labels a
        # RetryableWriteError only on a retryable write (mongodb/mongo
        # src/mongo/db/error_labels.cpp, ErrorLabelBuilder::isRetryableWriteError).
        assert "txnNumber" not in inserts[0].command
        assert item.error.labels == ()
        assert "retryWrites off" in lane_header(b, 0.0, None).plain
        row = [e for e in app.wb.timeline.after(0) if e.what == "lane options"][-1]
        assert row.outcome == "retryWrites off"

        # Back to the default: the lane's own client is closed, the workbench's used again.
        await set_options(pilot, retry=True)
        assert app.wb.runner(b.id).client is app.wb.client
        assert b.id not in app.wb.lane_clients.clients


async def test_w0_is_unacknowledged_and_a_session_refuses_it() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await queue_op(pilot, kind="insert", document="{_id: 'erin'}", writeConcern="{w: 0}")
        item = await run_next(pilot, a, "o")  # no session: pymongo sends it with w: 0
        assert item.error is None and item.summary == UNACKNOWLEDGED
        assert "w:0" in item.label()
        (insert,) = [
            r
            for r in app.wb.monitor.log
            if r.name == "insert" and r.command["documents"][0]["_id"] == "erin"
        ]
        assert insert.command["writeConcern"] == {"w": 0}
        # On the lane's session pymongo refuses it: an explicit session needs a reply.
        await queue_op(pilot, kind="insert", document="{_id: 'fred'}", writeConcern="{w: 0}")
        item = await run_next(pilot, a)
        assert item.error is not None and item.error.client_side
        assert "unacknowledged" in item.error.message
        assert sent(app, a, "insert") == []  # nothing was sent


async def test_read_concern_outside_a_transaction_is_sent_and_answered() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await queue_op(pilot, kind="find", filter="{}", readConcern="{level: 'majority'}")
        item = await run_next(pilot, a)
        assert item.error is None and item.summary == "2 docs"
        (find,) = sent(app, a, "find")
        assert find.command["readConcern"]["level"] == "majority"
        await queue_op(pilot, kind="countDocuments", filter="{}", readConcern="{level: 'snapshot'}")
        item = await run_next(pilot, a)
        assert item.error is None and item.summary == "count 2"
        (agg,) = sent(app, a, "aggregate")
        assert agg.command["readConcern"]["level"] == "snapshot"
        assert "atClusterTime" in agg.reply["cursor"]  # the server says when it read
        # A cluster time with find: pymongo's ReadConcern has a level only; said in place.
        await pilot.press("a")
        await until(pilot, lambda: app.screen.query("#f-readConcern"), what="editor")
        editor = app.screen
        from mongotx_tui.walkthroughs import fill_editor

        editor.query_one("#kind").value = "find"
        await pilot.pause()
        editor.query_one(
            "#f-readConcern"
        ).text = "{level: 'snapshot', atClusterTime: Timestamp(1, 1)}"
        await pilot.pause()
        assert "takes a read concern level only" in str(editor.query_one("#e-readConcern").render())
        editor.query_one("#kind").value = "aggregate"  # aggregate takes it: valid
        await pilot.pause()
        assert not editor.query_one("#e-readConcern").display
        await fill_editor(pilot)


async def test_max_time_ms_stops_a_blocked_write_with_50() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes[:2]
        await pilot.press("t")
        await queue_op(pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -1}}")
        await run_next(pilot, a)
        await pilot.press("right_square_bracket")
        await queue_op(
            pilot,
            kind="findOneAndUpdate",
            filter="{_id: 'alice'}",
            update="{$inc: {balance: 1}}",
            maxTimeMS="300",
            comment="bounded",
        )
        item = await run_next(pilot, b, "o")  # waits behind A's transaction, then 50
        assert item.error is not None
        assert (item.error.code, item.error.code_name) == (50, "MaxTimeMSExpired")
        (sent_fam,) = [r for r in app.wb.monitor.log if r.name == "findAndModify"]
        assert sent_fam.command["maxTimeMS"] == 300
        assert sent_fam.command["comment"] == "bounded"


async def test_causal_consistency_on_and_off_and_the_clock_shown() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes[:2]
        for _ in range(2):
            await queue_op(pilot, kind="findOne", filter="{_id: 'alice'}")
        await run_next(pilot, a)
        await run_next(pilot, a)
        first, second = sent(app, a, "find")
        assert "readConcern" not in first.command  # no operationTime yet
        assert second.command["readConcern"]["afterClusterTime"] == first.reply["operationTime"]
        # The lane shows the session's causal clock, pymongo's session.operation_time.
        session = app.wb.runner(a.id).session
        assert a.operation_time == session.operation_time is not None
        assert a.cluster_time == session.cluster_time["clusterTime"]
        assert " op" in lane_header(a, 0.0, None).plain

        await pilot.press("right_square_bracket")
        await set_options(pilot, causal=False)
        assert not b.options.causal_consistency
        for _ in range(2):
            await queue_op(pilot, kind="findOne", filter="{_id: 'alice'}")
        await run_next(pilot, b)
        await run_next(pilot, b)
        assert [r.command.get("readConcern") for r in sent(app, b, "find")] == [None, None]
        assert "causal off" in lane_header(b, 0.0, None).plain


async def test_a_snapshot_session_reads_at_one_time_shown_on_the_lane() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await set_options(pilot, snapshot=True)
        assert a.options.snapshot and not a.options.causal_consistency
        for _ in range(2):
            await queue_op(pilot, kind="find", filter="{}")
        first = await run_next(pilot, a)
        assert first.summary == "2 docs"
        at = a.snapshot_time
        assert at is not None and "snap " in lane_header(a, 0.0, None).plain
        # A write after the snapshot's time: the session does not see it.
        await app.wb.client.bank.accounts.insert_one({"_id": "zoe", "balance": 1})
        second = await run_next(pilot, a)
        assert second.summary == "2 docs"
        finds = sent(app, a, "find")
        assert finds[0].reply["cursor"]["atClusterTime"] == at
        assert finds[1].command["readConcern"] == {"level": "snapshot", "atClusterTime": at}
        assert a.snapshot_time == at
        # A snapshot session takes no transaction: pymongo says so, on the lane.
        await pilot.press("t")
        await until(pilot, lambda: a.last_error is not None, what="refusal")
        assert "snapshot sessions" in a.last_error.message


async def test_concerns_inside_a_transaction_are_the_driver_s_or_the_server_s_answer() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")
        await queue_op(pilot, kind="insert", document="{_id: 'gus'}", writeConcern="{w: 1}")
        await queue_op(pilot, kind="find", filter="{}", readConcern="{level: 'majority'}")
        await queue_op(pilot, kind="countDocuments", filter="{}", readConcern="{level: 'majority'}")
        # pymongo leaves the collection's concerns out of a transaction's statements: the
        # lane says so (the monitor's record is what was sent)
        item = await run_next(pilot, a)
        assert item.error is None, item.error
        assert "writeConcern not sent: pymongo sends the transaction's" in item.summary
        (insert,) = sent(app, a, "insert")
        assert "writeConcern" not in insert.command
        item = await run_next(pilot, a)
        assert item.error is None and "readConcern not sent" in item.summary
        # countDocuments puts it into the command itself: the server answers
        item = await run_next(pilot, a)
        (agg,) = sent(app, a, "aggregate")
        assert agg.command["readConcern"] == {"level": "majority"}
        assert item.error is not None and item.error.code == 72, item.error


async def test_options_are_saved_load_back_and_the_export_runs(tmp_path) -> None:
    import asyncio
    import sys

    from mongotx_tui.scenario.export import export_script
    from mongotx_tui.scenario.loader import parse_scenario
    from mongotx_tui.scenario.save import workbench_yaml

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes[:2]
        await queue_op(
            pilot,
            kind="insert",
            document="{_id: 'hal'}",
            writeConcern="{w: 'majority', wtimeout: 1000}",
            comment="from A",
        )
        await run_next(pilot, a)
        await pilot.press("right_square_bracket")
        await set_options(pilot, retry=False, causal=False)
        await queue_op(pilot, kind="distinct", key="_id", readConcern="{level: 'local'}")
        await run_next(pilot, b)

        text = workbench_yaml(app.wb)
        scenario = parse_scenario(text, "saved.yaml")
        assert [s.options for s in scenario.sessions] == [a.options, b.options]
        first, second = (step.spec for step in scenario.steps)
        assert first.texts == a.queue[0].spec.texts
        assert second.texts == b.queue[0].spec.texts

        placed, _ = await app.wb.plan_scenario(scenario)
        await app.wb.load_scenario(placed)
        assert [lane.options for lane in app.wb.lanes] == [a.options, b.options]
        assert app.wb.runner(app.wb.lanes[1].id).client is not app.wb.client

        path = tmp_path / "saved.py"
        path.write_text(export_script(scenario))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(path),
            app.wb.uri,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        lines = out.decode().splitlines()
        assert lines[1].startswith("step 1 A insert {_id: 'hal'} [w:majority wtimeout:1000")
        assert lines[2] == "    -> ok inserted _id 'hal'"
        assert lines[3:5] == [
            "step 2 B distinct _id {_id: 'alice'} [rc:local]",  # the editor's example filter
            "    -> ok ['alice']",
        ]

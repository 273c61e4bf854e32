"""Fault injection from the UI (issue 11, item 2): each preset of the dialog (key F) sets a
`failCommand` fail point on admin, the lanes show the outcome it names, the status line shows
the fail point until it has fired, and each firing is a timeline row judged from what the
server answered. The real app, the embedded sandbox over a socket, real pymongo, a Pilot.
"""

from __future__ import annotations

from textual.widgets import Input, OptionList, Static
from tuihelpers import queue_op, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.screens.faults import FaultInjectionScreen


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


def status_line(app: MongoTxApp) -> str:
    workbench = next(s for s in app.screen_stack if s.id == "workbench")
    line = workbench.query_one("#fail-points", Static)
    return str(line.render()) if line.display else ""


def fired_rows(app: MongoTxApp) -> list[tuple[str, str, str]]:
    return [
        (e.lane, e.what, e.outcome)
        for e in app.wb.timeline.after(0)
        if e.what.startswith("fail point fired")
    ]


async def set_preset(app: MongoTxApp, pilot, index: int, /, **fields: str) -> None:
    """Open the dialog (F), highlight preset `index`, change fields, set it (F10)."""
    await pilot.press("F")
    await until(pilot, lambda: isinstance(app.screen, FaultInjectionScreen), what="dialog")
    dialog = app.screen
    presets = dialog.query_one("#faults-presets", OptionList)
    for _ in range(index):
        await pilot.press("down")
    await until(pilot, lambda: presets.highlighted == index, what="preset highlighted")
    for name, value in fields.items():
        dialog.query_one(f"#fp-{name}", Input).value = value
        await pilot.pause()
    await pilot.press("f10")
    await until(pilot, lambda: not isinstance(app.screen, FaultInjectionScreen), what="set")


async def test_commit_preset_loses_the_reply_and_the_driver_retries() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="update")
        await set_preset(app, pilot, 0)
        assert "The next commit loses its reply" in status_line(app)
        assert "1 time left" in status_line(app)
        sent = [r for r in app.wb.monitor.log if r.name == "configureFailPoint"]
        assert sent[-1].database == "admin" and sent[-1].ok

        await pilot.press("c")
        await until(pilot, lambda: a.txn_state is TxnState.COMMITTED, what="A committed")
        commits = [r for r in app.wb.monitor.log if r.name == "commitTransaction"]
        assert [(r.attempt, r.ok) for r in commits] == [(1, False), (2, True)]
        (row,) = [e for e in app.wb.timeline.after(0) if e.what.startswith("commitTransaction")]
        assert row.outcome == "committed · retried by the driver ×1"  # noqa: RUF001
        assert fired_rows(app) == [
            (
                "A",
                "fail point fired: commitTransaction",
                "no reply: the server closed the connection",
            )
        ]
        await until(pilot, lambda: status_line(app) == "", what="status line cleared")
        assert app.wb.faults.active is None


async def test_commit_preset_twice_ends_unknown_commit_result() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="update")
        await set_preset(app, pilot, 0, times="2")
        assert "2 times left" in status_line(app)
        await pilot.press("c")
        await until(pilot, lambda: a.last_error is not None, what="commit error")
        assert "UnknownTransactionCommitResult" in a.last_error.labels
        assert len(fired_rows(app)) == 2
        await until(pilot, lambda: status_line(app) == "", what="status line cleared")


async def test_retryable_write_preset_twice_shows_the_error_and_its_label() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await set_preset(app, pilot, 1, times="2")
        assert "The next write fails with a retryable error" in status_line(app)
        # No transaction: a retryable write on the lane's session.
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.FAILED, what="write failed")
        error = a.queue[0].error
        assert error.code == 91 and error.code_name == "ShutdownInProgress"
        assert "RetryableWriteError" in error.labels
        updates = [r for r in app.wb.monitor.log if r.name == "update" and r.lane == "A"]
        assert [r.attempt for r in updates] == [1, 2]
        assert [w for _, w, _ in fired_rows(app)] == [
            "fail point fired: update",
            "fail point fired: update (attempt 2)",
        ]
        assert fired_rows(app)[0][2] == "answered 91 ShutdownInProgress [RetryableWriteError]"
        await until(pilot, lambda: status_line(app) == "", what="status line cleared")


async def test_retryable_write_preset_once_is_retried_by_the_driver() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await set_preset(app, pilot, 1)
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="write done")
        assert a.queue[0].summary.endswith("retried by the driver ×1")  # noqa: RUF001
        assert len(fired_rows(app)) == 1


async def test_transient_preset_fails_the_next_statement_with_its_label() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")
        await set_preset(app, pilot, 2)
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.FAILED, what="statement")
        error = a.queue[0].error
        assert error.code == 112 and "TransientTransactionError" in error.labels
        assert fired_rows(app) == [
            (
                "A",
                "fail point fired: update",
                "answered 112 WriteConflict [TransientTransactionError]",
            )
        ]
        await until(pilot, lambda: status_line(app) == "", what="status line cleared")


async def test_commit_write_concern_error_preset() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="update")
        await set_preset(app, pilot, 3)
        await pilot.press("c")
        await until(pilot, lambda: a.last_error is not None, what="commit error")
        assert a.last_error.code == 64
        assert "UnknownTransactionCommitResult" in a.last_error.labels
        ((lane, what, how),) = fired_rows(app)
        assert (lane, what) == ("A", "fail point fired: commitTransaction")
        assert how == "answered writeConcernError 64 WriteConcernTimeout"


async def test_block_preset_holds_the_command() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await set_preset(app, pilot, 4, commands="update", block="300")
        assert "block 300 ms" in status_line(app)
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="write done")
        ((lane, what, how),) = fired_rows(app)
        assert (lane, what) == ("A", "fail point fired: update")
        assert how.endswith("(held 300 ms)")
        await until(pilot, lambda: status_line(app) == "", what="status line cleared")


async def test_custom_always_on_is_turned_off_from_the_dialog() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await set_preset(
            app, pilot, 5, commands="distinct", code="2", labels="", times="0", app="other-app"
        )
        assert "always" in status_line(app) and "appName other-app" in status_line(app)
        await pilot.press("F")
        await until(pilot, lambda: isinstance(app.screen, FaultInjectionScreen), what="dialog")
        assert "Active: Custom fault" in str(app.screen.query_one("#faults-state").render())
        await pilot.press("f9")
        await until(pilot, lambda: not isinstance(app.screen, FaultInjectionScreen), what="off")
        await until(pilot, lambda: status_line(app) == "", what="status line cleared")
        off = [e for e in app.wb.timeline.after(0) if e.what == "fail point off"]
        assert off and off[-1].ok and off[-1].outcome.startswith("turned off after 0 firings")
        sent = [r for r in app.wb.monitor.log if r.name == "configureFailPoint"]
        assert sent[-1].command["mode"] == "off" and sent[-1].database == "admin"
        # Both are steps of the workbench: a saved scenario holds them and loads back.
        from mongotx_tui.scenario.loader import parse_scenario
        from mongotx_tui.scenario.save import workbench_yaml

        steps = parse_scenario(workbench_yaml(app.wb)).steps
        assert [s.failpoint["mode"] for s in steps if s.action == "failPoint"] == [
            "alwaysOn",
            "off",
        ]


async def test_bad_form_is_said_in_place_and_nothing_is_set() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("F")
        await until(pilot, lambda: isinstance(app.screen, FaultInjectionScreen), what="dialog")
        dialog = app.screen
        dialog.query_one("#fp-code", Input).value = "ninety"
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, FaultInjectionScreen)
        error = str(dialog.query_one("#faults-error", Static).render())
        assert "error code must be a whole number" in error
        assert app.wb.faults.active is None


async def test_raw_command_runs_on_its_database_and_is_saved_and_exported(tmp_path) -> None:
    """The raw command's database field: configureFailPoint is refused on the watched
    database (13) and runs on admin; the saved scenario and the exported script keep it."""
    import asyncio
    import sys

    from mongotx_tui.scenario.export import export_script
    from mongotx_tui.scenario.loader import parse_scenario
    from mongotx_tui.scenario.save import workbench_yaml

    off = "{configureFailPoint: 'failCommand', mode: 'off'}"
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await pilot.press("a")
        await until(pilot, lambda: app.screen.__class__.__name__ == "EditorScreen", what="ed")
        from mongotx_tui.walkthroughs import fill_editor

        await fill_editor(pilot, kind="command", command=off)
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.FAILED, what="refused")
        assert a.queue[0].error.code == 13  # admin only: the watched database is bank
        await pilot.press("a")
        await until(pilot, lambda: app.screen.__class__.__name__ == "EditorScreen", what="ed")
        await fill_editor(pilot, kind="command", command=off, database="admin")
        assert a.queue[1].spec.label(100) == f"command on admin {off}"
        await pilot.press("s")
        await until(pilot, lambda: a.queue[1].status is OpStatus.DONE, what="on admin")
        record = [r for r in app.wb.monitor.log if r.name == "configureFailPoint"][-1]
        assert record.database == "admin" and record.ok

        text = workbench_yaml(app.wb)
        assert "database: admin" in text
        scenario = parse_scenario(text)
        specs = [s.spec for s in scenario.steps if s.spec is not None]
        assert [s.texts.get("database", "") for s in specs] == ["", "admin"]
        script = export_script(scenario)
        assert 'client["admin"].command(' in script
        path = tmp_path / "exported.py"
        path.write_text(script)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(path),
            app.wb.uri,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert "error 13 Unauthorized" in out.decode() and "ok" in out.decode()


async def test_a_server_that_refuses_fail_points_says_so_and_disables_the_presets() -> None:
    """A sandbox started with --no-test-commands answers configureFailPoint as a mongod
    without enableTestCommands: 59 CommandNotFound. The dialog says so in one sentence and
    disables its presets, then and when opened again."""
    import subprocess
    import sys

    from textual.widgets import Button

    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_sandbox", "--port", "0", "--no-test-commands"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        app = MongoTxApp(uri, config=Config())
        async with app.run_test(size=(120, 36)) as pilot:
            await ready(app, pilot)
            await pilot.press("F")
            await until(pilot, lambda: isinstance(app.screen, FaultInjectionScreen), what="d")
            dialog = app.screen
            await pilot.press("f10")
            state = dialog.query_one("#faults-state", Static)
            await until(pilot, lambda: dialog.refused != "", what="refusal")
            text = str(state.render())
            assert text.startswith("This server has no configureFailPoint (59 CommandNotFound)")
            assert dialog.query_one("#faults-presets", OptionList).disabled
            assert dialog.query_one("#faults-apply", Button).disabled
            assert "59 CommandNotFound" in str(dialog.query_one("#faults-error").render())
            assert app.wb.faults.active is None and status_line(app) == ""
            await pilot.press("escape")
            await pilot.press("F")
            await until(pilot, lambda: isinstance(app.screen, FaultInjectionScreen), what="d")
            assert app.screen.query_one("#faults-presets", OptionList).disabled
            (row,) = [e for e in app.wb.timeline.after(0) if e.what.startswith("fail point")]
            assert not row.ok and "59 CommandNotFound" in row.outcome
    finally:
        proc.terminate()
        proc.wait(timeout=10)

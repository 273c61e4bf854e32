"""Scenarios in the workbench: load, step with n, see match / mismatch, save, drafts, export.

The real app on the real embedded sandbox; keys pressed with a Pilot. No mocks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, RadioButton, TextArea
from tuihelpers import click, queue_op, ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.scenario.library import builtin_names
from mongotx_tui.scenario.loader import load_scenario
from mongotx_tui.widgets.timeline import TimelineTable


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


def data_dir() -> Path:
    return Path(os.environ["MONGOTX_TUI_DATA_DIR"])


def lane_text(app: MongoTxApp, name: str) -> str:
    """What a lane's queue shows, as plain text: an item a line, its words as shown (the
    lines of an item wrap to the lane's width)."""
    from mongotx_tui.widgets.lane import LaneWidget

    lane = next(w for w in app.screen.query(LaneWidget) if w.lane.name == name)
    queue = lane.queue
    items = (str(queue.get_option_at_index(i).prompt) for i in range(queue.option_count))
    return "\n".join(" ".join(item.split()) for item in items)


def timeline_text(app: MongoTxApp) -> str:
    table = app.screen.query_one(TimelineTable)
    return "\n".join(
        " | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)
    )


async def test_builtin_scenario_stepped_to_the_end_every_step_matches():
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "write-conflict")
        play = app.wb.play
        # One lane per session, named as in the scenario; steps in their lanes.
        assert [lane.name for lane in app.wb.lanes] == ["A", "B", "R"]
        assert [len(lane.queue) for lane in app.wb.lanes] == [3, 6, 1]
        assert (app.wb.db, app.wb.collection) == ("bank", "accounts")
        banner = str(app.screen.query_one("#scenario-banner").render())
        assert "Write-write conflict and the retry" in banner
        assert "First writer wins" in banner  # what it teaches
        assert "next 1. A: startTransaction" in banner

        for _ in range(play.total):
            await pilot.press("n")
            await pilot.pause(0.05)
        await until(pilot, lambda: play.finished, 30, "scenario finished")
        await pilot.pause(0.3)

        assert play.checks == dict.fromkeys(range(1, 11), "")
        assert play.passed
        b = app.wb.lanes[1]
        conflict = b.queue[1]
        assert conflict.status is OpStatus.FAILED and conflict.error.code == 112
        assert conflict.check == ""  # an expected error is a match
        assert "✓ as expected" in lane_text(app, "B")
        assert "112 WriteConflict" in lane_text(app, "B")
        banner = str(app.screen.query_one("#scenario-banner").render())
        assert "✓ 10/10 steps as expected" in banner
        assert "Verdict: The second writer fails fast" in banner
        rows = timeline_text(app)
        assert "✓ 112 WriteConflict" in rows
        assert "verdict · 10/10 steps as expected" in rows
        last = app.wb.timeline.last
        assert last is not None and last.outcome == play.scenario.verdict
        # n after the end says so instead of running anything
        await pilot.press("n")
        await pilot.pause(0.1)
        assert play.position == play.total


MISMATCH = """\
name: wrong-expectation
description: B's update conflicts, but this file expects it to succeed.
sessions: [A, B]
setup:
  database: mismatch
  collection: test
  documents: [{_id: 1, value: 10}]
steps:
  - {session: A, action: startTransaction}
  - {session: B, action: startTransaction}
  - {session: A, action: update, filter: {_id: 1}, update: {$set: {value: 11}}}
  - {session: B, action: update, filter: {_id: 1}, update: {$set: {value: 12}}, result: {modifiedCount: 1}}
  - {session: A, action: commit, error: {code: 251}}
verdict: Two of these expectations are wrong.
"""


async def test_a_wrong_expectation_is_shown_as_a_mismatch(tmp_path: Path):
    path = tmp_path / "wrong.yaml"
    path.write_text(MISMATCH)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, str(path))
        play = app.wb.play
        assert play.scenario.name == "wrong-expectation"
        await walkthroughs.next_steps(pilot, 5)
        await until(pilot, lambda: play.finished, 20, "finished")
        await pilot.pause(0.3)
        assert play.checks[1] == play.checks[2] == play.checks[3] == ""
        assert play.checks[4] == (
            "expected {modifiedCount: 1}, got 112 WriteConflict [TransientTransactionError]"
        )
        assert play.checks[5] == "expected error 251, got committed"
        assert not play.passed
        shown = lane_text(app, "B")
        assert "4 ✗" in shown and "✗ expected {modifiedCount: 1}, got 112 WriteConflict" in shown
        assert "✗ expected error 251, got committed" in lane_text(app, "A")
        rows = timeline_text(app)
        assert "✗ expected {modifiedCount: 1}" in rows
        banner = str(app.screen.query_one("#scenario-banner").render())
        assert "✗ 3/5 steps as expected" in banner
        assert app.screen.query_one("#scenario-banner").has_class("-failed")


async def _manual_conflict(app: MongoTxApp, pilot) -> None:
    """By hand: A and B update alice in transactions; B conflicts; A commits, B's commit fails."""
    a, b = app.wb.lanes
    await pilot.press("t")
    await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
    await pilot.press("s")
    await until(pilot, lambda: a.queue[0].status is OpStatus.DONE, what="A's update")
    await pilot.press("right_square_bracket", "t")
    await until(pilot, lambda: b.txn_state is TxnState.STARTING)
    await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -20}}")
    await pilot.press("s")
    await until(pilot, lambda: b.queue[0].status is OpStatus.FAILED, what="B's conflict")
    await pilot.press("left_square_bracket", "c")
    await until(pilot, lambda: a.txn_state is TxnState.COMMITTED, what="A committed")
    await pilot.press("right_square_bracket", "c")
    await until(pilot, lambda: b.last_error is not None and b.last_error.code == 251)


async def test_save_the_workbench_as_a_scenario_and_load_it_back():
    from mongotx_tui.screens.scenarios import SaveScenarioScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await _manual_conflict(app, pilot)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, SaveScenarioScreen))
        default = Path(app.screen.query_one("#save-path", Input).value)
        assert default.parent == data_dir() / "scenarios"
        await pilot.press("enter")
        await until(pilot, lambda: default.exists(), what="saved file")

        saved = load_scenario(default)
        assert [s.name for s in saved.sessions] == ["A", "B"]
        assert [(s.session, s.action) for s in saved.steps] == [
            ("A", "startTransaction"),
            ("A", "update"),
            ("B", "startTransaction"),
            ("B", "update"),
            ("A", "commit"),
            ("B", "commit"),
        ]
        assert saved.steps[1].expect.result == {"matchedCount": 1, "modifiedCount": 1}
        conflict = saved.steps[3].expect.error
        assert (conflict.code, conflict.code_name) == (112, "WriteConflict")
        assert conflict.labels == ("TransientTransactionError",)
        assert saved.steps[5].expect.error.code == 251
        assert saved.setup.database == "bank"
        assert {d["_id"] for d in saved.setup.collections[0].documents} >= {"alice", "bob"}

        # Loaded back into the workbench, it replays with every step as expected.
        await walkthroughs.load_scenario(pilot, str(default))
        play = app.wb.play
        await walkthroughs.next_steps(pilot, play.total)
        await until(pilot, lambda: play.finished, 20)
        assert play.passed, play.checks


async def test_a_draft_is_written_after_steps_and_listed_in_the_picker():
    from textual.widgets import OptionList

    from mongotx_tui.screens.scenarios import ScenarioPickerScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        drafts = data_dir() / "drafts"
        a = app.wb.lanes[0]
        await pilot.press("t")
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        # queued, not run yet: the draft keeps it
        await until(pilot, lambda: any(drafts.glob("draft-*.yaml")), what="draft written")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[0].status is OpStatus.DONE)
        path = next(drafts.glob("draft-*.yaml"))
        await until(pilot, lambda: len(load_scenario(path).steps) == 2, what="draft has 2 steps")
        draft = load_scenario(path)
        assert [(s.session, s.action) for s in draft.steps] == [
            ("A", "startTransaction"),
            ("A", "update"),
        ]
        assert not list(drafts.glob(".*.tmp"))  # atomic: no temp file left behind
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen))
        listing = app.screen.query_one("#picker-list", OptionList)
        await until(pilot, lambda: listing.option_count > 2)
        assert listing.get_option_index(str(path)) > 0
        assert "write-conflict" in {
            listing.get_option_at_index(i).id for i in range(listing.option_count)
        }


async def test_export_screen_shows_copies_and_saves_the_script():
    from mongotx_tui.screens.scenarios import ExportScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "write-conflict")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        screen = app.screen
        code = screen.query_one("#export-code", TextArea)
        assert code.read_only
        assert "from pymongo import MongoClient" in code.text
        assert "session_a.start_transaction(" in code.text or "start_transaction(" in code.text
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == code.text

        await click(pilot, "#style-async")
        await until(pilot, lambda: "AsyncMongoClient" in code.text)
        assert screen.query_one("#style-async", RadioButton).value
        screen.query_one("#export-with-txn", Checkbox).value = True
        await until(pilot, lambda: "with_transaction(" in code.text)
        target = Path(screen.query_one("#export-path", Input).value)
        assert target.name == "write_conflict_async_with_transaction.py"
        await pilot.press("f10")
        await until(pilot, lambda: target.exists())
        assert target.read_text() == code.text
        compile(code.text, str(target), "exec")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ExportScreen))


@pytest.mark.parametrize("name", builtin_names())
async def test_every_builtin_matches_when_stepped_in_the_workbench(name: str):
    """Each built-in, loaded and stepped with `n` in the real workbench, meets every
    expectation (the same library the headless runs check). A lesson of several members
    runs in `mongotx-tui --members N` (issue 13)."""
    from mongotx_tui.scenario import load_scenario

    members = load_scenario(name).members
    app = make_app() if members == 1 else MongoTxApp(config=Config(), members=members)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, name)
        play = app.wb.play
        for _ in range(play.total):
            await pilot.press("n")
            await pilot.pause(0.05)
        await until(pilot, lambda: play.finished, 60, f"{name} finished")
        failed = {i: why for i, why in play.checks.items() if why}
        assert play.passed, failed

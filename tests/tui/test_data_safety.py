"""Data safety in the workbench: on a deployment reached by a URI, loading a scenario never
drops a collection that holds data unless the user confirms it in a dialog naming each
namespace and what it holds; the header and the Load dialog say which deployment it is.

The real app, driven by a Pilot, connected by URI to a sandbox on its own thread (a
deployment the app did not start: as protected as a real cluster). The test reads and
writes the data with sync pymongo. No mocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from textual.widgets import Checkbox, OptionList, Static
from tuihelpers import click, ready, until

from mongotx_sandbox import ThreadedSandbox
from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.screens.confirm import ConfirmScreen
from mongotx_tui.screens.editor import EditorScreen
from mongotx_tui.screens.scenarios import ConfirmDropScreen, ScenarioPickerScreen
from mongotx_tui.screens.workbench_screen import WorkbenchScreen
from mongotx_tui.widgets.timeline import TimelineTable

USER_DOCS = [
    {"_id": "u1", "owner": "ann", "balance": 7},
    {"_id": "u2", "owner": "bob", "balance": 8},
    {"_id": "u3", "owner": "cy", "balance": 9},
]
INTACT = (3, USER_DOCS, ["_id_", "owner_1"])
SCENARIO_SETUP = [{"_id": 1, "balance": 10}, {"_id": 2, "balance": 20}]  # write-conflict's


@pytest.fixture
def server() -> Iterator[str]:
    with ThreadedSandbox() as uri:
        yield uri


@pytest.fixture
def client(server: str) -> Iterator[MongoClient[dict[str, Any]]]:
    with MongoClient(server) as c:
        c.bank.accounts.insert_many([dict(d) for d in USER_DOCS])
        c.bank.accounts.create_index("owner", name="owner_1")
        yield c


def snapshot(client: MongoClient[dict[str, Any]]) -> tuple[int, list[Any], list[str]]:
    coll = client.bank.accounts
    docs = list(coll.find({}, sort=[("_id", 1)]))
    return coll.count_documents({}), docs, sorted(coll.index_information())


def text(widget: Any) -> str:
    return str(widget.render())


def toasts(app: MongoTxApp) -> list[str]:
    from textual.widgets._toast import Toast

    return [str(toast.render()) for toast in app.screen.query(Toast)]


def timeline_text(app: MongoTxApp) -> str:
    table = app.screen.query_one(TimelineTable)
    return "\n".join(
        " | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)
    )


async def open_picker(app: MongoTxApp, pilot: Any) -> ScenarioPickerScreen:
    await pilot.press("l")
    await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen), what="picker")
    screen = app.screen
    assert isinstance(screen, ScenarioPickerScreen)
    return screen


async def choose(pilot: Any, screen: ScenarioPickerScreen, name: str) -> None:
    listing = screen.query_one("#picker-list", OptionList)
    await until(pilot, lambda: listing.option_count > 2, what="library")
    listing.highlighted = listing.get_option_index(name)
    listing.focus()
    await pilot.press("enter")


async def test_header_and_load_dialog_name_the_embedded_sandbox() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        header = text(app.screen.query_one("#deployment", Static))
        assert header.startswith("sandbox (in this process) · replica set rs0 · MongoDB")
        picker = await open_picker(app, pilot)
        where = text(picker.query_one("#picker-deployment", Static))
        assert where.startswith("on sandbox (in this process): ")
        assert "dropped and refilled" in where
        assert not picker.query(Checkbox)  # nothing to choose: the sandbox is ours
        await pilot.press("escape")


async def test_load_by_uri_runs_in_a_database_of_its_own_without_asking(
    server: str, client: MongoClient[dict[str, Any]]
) -> None:
    app = MongoTxApp(server, config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        header = text(app.screen.query_one("#deployment", Static))
        assert header.startswith(f"{server} · replica set rs0 · MongoDB")
        assert "sandbox" not in header.split(" · ")[0]
        picker = await open_picker(app, pilot)
        where = text(picker.query_one("#picker-deployment", Static))
        assert where.startswith(f"on {server}: ") and "a database of its own" in where
        assert not picker.query_one("#picker-in-place", Checkbox).value
        await choose(pilot, picker, "write-conflict")
        await until(pilot, lambda: app.wb.play is not None, 20, "loaded")
        assert not isinstance(app.screen, ConfirmDropScreen)
        assert (app.wb.db, app.wb.collection) == ("mongotx_bank", "accounts")
        await until(pilot, lambda: app.wb.page.docs == SCENARIO_SETUP, what="its own data")
        assert "in mongotx_bank, a database of the scenario's own" in timeline_text(app)
        assert snapshot(client) == INTACT


async def test_load_in_place_asks_naming_each_namespace_and_cancel_keeps_the_data(
    server: str, client: MongoClient[dict[str, Any]]
) -> None:
    app = MongoTxApp(server, config=Config())
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(app, pilot)
        lanes_before = [lane.name for lane in app.wb.lanes]
        picker = await open_picker(app, pilot)
        await click(pilot, "#picker-in-place")
        assert picker.query_one("#picker-in-place", Checkbox).value
        await choose(pilot, picker, "write-conflict")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDropScreen), what="the question")
        dialog = app.screen
        listed = text(dialog.query_one("#drop-list", Static))
        assert listed.strip() == "bank.accounts: 3 documents, 1 index besides _id (owner_1)"
        shown = "\n".join(text(w) for w in dialog.query("Static, Label"))
        assert server in shown and "in place" in shown and "mongotx_bank" in shown
        assert dialog.focused is not None and dialog.focused.id == "cancel"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, WorkbenchScreen), what="workbench")
        await until(pilot, lambda: toasts(app), what="notification")
        assert "Not loaded; nothing was dropped (bank.accounts kept)" in toasts(app)[-1]
        assert app.wb.play is None
        assert [lane.name for lane in app.wb.lanes] == lanes_before
        assert (app.wb.db, app.wb.collection) == ("bank", "accounts")
        assert snapshot(client) == INTACT


async def test_load_in_place_confirmed_drops_exactly_what_was_named(
    server: str, client: MongoClient[dict[str, Any]]
) -> None:
    app = MongoTxApp(server, config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        picker = await open_picker(app, pilot)
        await click(pilot, "#picker-in-place")
        await choose(pilot, picker, "write-conflict")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDropScreen), what="the question")
        await click(pilot, "#drop")
        await until(pilot, lambda: app.wb.play is not None, 20, "loaded")
        assert (app.wb.db, app.wb.collection) == ("bank", "accounts")
        assert list(client.bank.accounts.find({}, sort=[("_id", 1)])) == SCENARIO_SETUP
        assert sorted(client.bank.accounts.index_information()) == ["_id_"]
        assert "dropped bank.accounts as confirmed" in timeline_text(app)


async def test_a_saved_workbench_replayed_by_uri_leaves_the_watched_collection_alone(
    server: str, client: MongoClient[dict[str, Any]], tmp_path: Path
) -> None:
    """`w` records the watched collection (the user's bank.accounts) as the setup; loading
    that file again on the same deployment runs it in mongotx_bank, and `run` refuses to
    drop bank.accounts in place."""
    from mongotx_tui.cli import main
    from mongotx_tui.scenario.save import workbench_yaml

    app = MongoTxApp(server, config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await until(pilot, lambda: len(app.wb.page.docs) == 3, what="the user's documents")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen), what="editor")
        await walkthroughs.fill_editor(pilot, "findOne", filter="{_id: 'u1'}")
        await pilot.press("s")
        await until(pilot, lambda: app.wb.has_steps(), what="a step ran")
        saved = tmp_path / "mine.yaml"
        saved.write_text(workbench_yaml(app.wb))
        picker = await open_picker(app, pilot)
        picker.query_one("#picker-path").value = str(saved)  # type: ignore[attr-defined]
        await click(pilot, "#load")
        # the step run by hand would be replaced: asked first (issue 9 §2)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await click(pilot, "#choice-load")
        await until(pilot, lambda: app.wb.play is not None, 20, "loaded")
        assert app.wb.db == "mongotx_bank"
        assert snapshot(client) == INTACT
    code = await asyncio.to_thread(main, ["run", str(saved), server, "--in-place"])
    assert code == 3
    assert snapshot(client) == INTACT


async def test_connecting_by_uri_seeds_nothing(server: str) -> None:
    """The demo documents go into the embedded sandbox only."""
    app = MongoTxApp(server, config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        assert app.wb.page.docs == []
    with MongoClient(server) as c:
        assert "bank" not in c.list_database_names()


async def test_a_scenario_set_up_on_the_sandbox_does_not_step_on_a_deployment_switched_to(
    server: str, client: MongoClient[dict[str, Any]]
) -> None:
    """Loaded on the embedded sandbox (database bank), then F2 to a deployment by URI: `n`
    would write to that deployment's bank.accounts, which the scenario never set up, so it
    says so instead of running the step."""
    from mongotx_tui.screens.dialogs import ConnectScreen

    client.bank.accounts.insert_one({"_id": 1, "balance": 5})  # write-conflict's target _id
    before = snapshot(client)
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "write-conflict")
        play = app.wb.play
        assert play is not None and app.wb.db == "bank"
        ready_at = app.ready_at
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        app.screen.query_one("#uri").value = server  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: app.ready_at != ready_at, 15, "switched")
        app.clear_notifications()
        for _ in range(3):
            await pilot.press("n")
        await until(pilot, lambda: toasts(app), what="notification")
        assert "set up on another deployment" in toasts(app)[-1]
        assert "Load it again (l)" in toasts(app)[-1]
        assert play.position == 0 and not play.checks
        assert snapshot(client) == before

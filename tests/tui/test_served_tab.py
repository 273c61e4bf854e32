"""A browser tab of `mongotx-tui serve` (issue 14 item 4, the trust fix): its file dialogs
reach only its own folder (and the built-in library, to load) and F2 only its own sandbox
unless the operator passed --allow-connect. The app is built the way `--tab` builds it:
the data folder is the tab's folder, `served` names it. Real app, real sandbox."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import Input, Static
from tuihelpers import click, ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.backend.confine import Served
from mongotx_tui.config import Config
from mongotx_tui.scenario.library import builtin_files
from mongotx_tui.screens.scenarios import ScenarioPickerScreen

GOOD = """\
name: mine
description: My own scenario.
setup: {database: mine, collection: test, documents: [{_id: 1}]}
sessions: [A]
steps:
  - {session: A, action: findOne, filter: {_id: 1}}
verdict: It reads.
"""


def tab_app(allow_connect: bool = False) -> MongoTxApp:
    """As `python -m mongotx_tui.serve --tab` builds it (conftest sets the data folder)."""
    folder = Path(os.environ["MONGOTX_TUI_DATA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return MongoTxApp(config=Config(), served=Served(folder, allow_connect=allow_connect))


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def submit(pilot, screen, selector: str, value: str) -> None:
    field = screen.query_one(selector, Input)
    field.value = value
    field.focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def test_load_refuses_paths_outside_the_tabs_folder_and_takes_its_own(tmp_path: Path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(GOOD)
    app = tab_app()
    folder = app.served.folder
    (folder / "link.yaml").symlink_to(outside)  # inside by name, outside once resolved
    (folder / "mine.yaml").write_text(GOOD)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen), what="picker")
        picker = app.screen
        for typed in (str(outside), f"{folder}/../outside.yaml", "link.yaml", "/etc/passwd"):
            await submit(pilot, picker, "#picker-path", typed)
            text = shown(picker, "#picker-error")
            assert text.startswith("✗ Refused: this browser tab can read files only in its"), text
            assert f"{typed} is outside it." in text
            assert app.screen is picker and app.wb.play is None
        # the built-in library is readable by path too, and the tab's own files load
        await submit(pilot, picker, "#picker-path", str(builtin_files()[0]))
        await until(pilot, lambda: app.wb.play is not None, 20, "a built-in by path")
        await walkthroughs.load_scenario(pilot, str(folder / "mine.yaml"))
        assert app.wb.play.scenario.name == "mine"


async def test_save_and_exports_stay_in_the_tabs_folder(tmp_path: Path):
    from mongotx_tui.screens.diagram import DiagramScreen
    from mongotx_tui.screens.scenarios import ExportScreen, SaveScenarioScreen

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    app = tab_app()
    folder = app.served.folder
    (folder / "out").symlink_to(outside)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "write-conflict")
        await walkthroughs.next_steps(pilot, 2)
        dialogs = [
            ("w", SaveScenarioScreen, "#save-path", "#save-error", "saved.yaml"),
            ("D", DiagramScreen, "#diagram-path", "#diagram-problem", "story.svg"),
            ("p", ExportScreen, "#export-path", "#export-error", "script.py"),
        ]
        for key, kind, field, error, name in dialogs:
            await pilot.press(key)
            await until(pilot, lambda k=kind: isinstance(app.screen, k), what=key)
            dialog = app.screen
            default = Path(dialog.query_one(field, Input).value)
            assert default.resolve().is_relative_to(folder.resolve()), default
            for typed in (str(outside / name), f"../{name}", f"out/{name}", f"~/{name}"):
                await submit(pilot, dialog, field, typed)
                text = shown(dialog, error)
                assert text.startswith("✗ Refused: this browser tab can write files only"), text
                assert app.screen is dialog
            assert list(outside.iterdir()) == [] and not (folder.parent / name).exists()
            # a plain name is saved in the tab's folder, and the message says so
            await submit(pilot, dialog, field, name)
            await until(pilot, lambda n=name: (folder / n).exists(), what=f"{name} written")
            if key == "w":  # checked now: a notification goes after its timeout (5 s)
                await until(pilot, lambda: saved_here(app), what="the message saying where")
            if key == "p":
                await pilot.press("escape")
            await until(pilot, lambda k=kind: not isinstance(app.screen, k), what=f"{key} closed")


def saved_here(app: MongoTxApp) -> bool:
    told = "saved.yaml (this tab's folder, deleted when the tab closes)"
    return any(told in n.message for n in app._notifications)


async def test_connect_offers_only_the_tabs_sandbox_unless_allowed():
    from mongotx_tui.screens.dialogs import ConnectScreen

    app = tab_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        dialog = app.screen
        refusal = "✗ This browser tab may use only its own sandbox"
        assert shown(dialog, "#connect-error").startswith(refusal)  # said before typing
        await submit(pilot, dialog, "#uri", "mongodb://127.0.0.1:1/")
        assert app.screen is dialog and "--allow-connect" in shown(dialog, "#connect-error")
        assert app.wb.is_sandbox
        # A proxy reaches any upstream too: the same refusal, no proxy dialog.
        dialog.query_one("#connect-error").update("")  # type: ignore[attr-defined]
        await click(pilot, "#proxy")
        await pilot.pause()
        assert app.screen is dialog and "--allow-connect" in shown(dialog, "#connect-error")

    allowed = tab_app(allow_connect=True)
    async with allowed.run_test(size=(120, 36)) as pilot:
        await ready(allowed, pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(allowed.screen, ConnectScreen), what="connect")
        assert shown(allowed.screen, "#connect-error") == ""

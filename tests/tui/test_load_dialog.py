"""The Load dialog (l) reads a typed scenario file itself: what is wrong with it shows in
the dialog, which stays open with the path for a correction. Real app, real sandbox."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static
from tuihelpers import ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
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


async def type_path(pilot, path: Path) -> ScenarioPickerScreen:
    app = pilot.app
    if not isinstance(app.screen, ScenarioPickerScreen):
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen), what="dialog")
    screen = app.screen
    field = screen.query_one("#picker-path", Input)
    field.value = str(path)
    field.focus()
    await pilot.pause()
    await pilot.press("enter")
    return screen


def error_text(screen: ScenarioPickerScreen) -> str:
    return str(screen.query_one("#picker-error", Static).render())


async def test_load_dialog_shows_what_is_wrong_with_the_file(tmp_path: Path) -> None:
    latin1 = tmp_path / "café.yaml"
    latin1.write_bytes(GOOD.replace("My own", "Mon café").encode("latin-1"))
    deep = tmp_path / "deep.yaml"
    deep.write_text(GOOD.replace("{_id: 1}}", "{_id: " + "[" * 500 + "]" * 500 + "}}"))
    bomb = tmp_path / "bomb.yaml"
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)
    ]
    bomb.write_text(
        GOOD.replace("documents: [{_id: 1}]", "documents: [{" + ", ".join(levels) + "}]")
    )
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        cases = [
            (latin1, f"{latin1}:2: not UTF-8 text: byte 0xe9"),
            (deep, f"{deep}:6: nested deeper than 32 levels"),
            (bomb, "aliases stand for more than 10,000 values"),
        ]
        for path, words in cases:
            screen = await type_path(pilot, path)
            await until(pilot, lambda w=words, s=screen: w in error_text(s), what=words)
            assert app.screen is screen  # still open, the path kept
            assert screen.query_one("#picker-path", Input).value == str(path)
            assert app.wb.play is None
        await type_path(pilot, good)
        await until(pilot, lambda: app.wb.play is not None, what="the good file loaded", timeout=20)
        assert app.wb.play.scenario.name == "mine"

"""The keymap file remaps bindings by id (TOML found through MONGOTX_TUI_CONFIG here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tuihelpers import queue_op, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import load_config
from mongotx_tui.model.lanes import OpStatus


async def test_keymap_remaps_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('theme = "textual-light"\n[keymap]\nstep = "space"\n')
    monkeypatch.setenv("MONGOTX_TUI_CONFIG", str(config))
    app = MongoTxApp(config=load_config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        assert app.theme == "textual-light"
        lane = app.wb.lanes[0]
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")  # no longer bound to step
        await pilot.pause(0.2)
        assert lane.queue[0].status is OpStatus.PENDING
        await pilot.press("space")
        await until(pilot, lambda: lane.queue[0].status is OpStatus.DONE, what="step on space")


async def test_bad_config_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[keymap\nstep = \n")
    monkeypatch.setenv("MONGOTX_TUI_CONFIG", str(config))
    loaded = load_config()
    assert loaded.problem and str(config) in loaded.problem
    app = MongoTxApp(config=loaded)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)  # the app still works with default keys


def toasts(app: MongoTxApp) -> list[str]:
    from textual.widgets._toast import Toast

    return [str(toast.render()) for toast in app.screen.query(Toast)]


async def test_config_problems_are_reported_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's old example (step = "n", next-step's key), a bad theme type, unknown
    settings and ids: one notification lists them; the rest of the file applies."""
    config = tmp_path / "config.toml"
    config.write_text(
        'theme = 5\ncolour = "red"\n[keymap]\nstep = "n"\ncommit = "ctrl+k"\nnosuch = "z"\n'
    )
    monkeypatch.setenv("MONGOTX_TUI_CONFIG", str(config))
    app = MongoTxApp(config=load_config())
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(app, pilot)
        await until(pilot, lambda: toasts(app), what="the config's problems shown")
        text = " ".join(" ".join(toasts(app)).split())
        assert str(config) in text
        assert '[keymap] step = "n": n is already next-step\'s key; step stays on s' in text
        assert 'theme = 5: a theme is a name, e.g. theme = "textual-light"' in text
        assert "unknown setting 'colour'" in text and "[keymap] nosuch: no such key id" in text
        assert app.effective_keys["step"] == "s" and app.effective_keys["commit"] == "ctrl+k"
        lane = app.wb.lanes[0]
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")  # step kept its own key
        await until(pilot, lambda: lane.queue[0].status is OpStatus.DONE, what="step on s")


async def test_unknown_theme_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('theme = "no-such-theme"\n')
    monkeypatch.setenv("MONGOTX_TUI_CONFIG", str(config))
    app = MongoTxApp(config=load_config())
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(app, pilot)
        await until(pilot, lambda: toasts(app), what="the unknown theme reported")
        text = " ".join(" ".join(toasts(app)).split())
        assert 'theme = "no-such-theme": no such theme (known: ' in text
        assert "textual-light" in text


def test_readme_config_example_has_no_problem() -> None:
    import re
    import tomllib

    from mongotx_tui.config import check_config

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert example is not None
    config = check_config(tomllib.loads(example.group(1)))
    assert config.problems == [] and config.keymap


@pytest.mark.parametrize(
    "text,problem",
    [
        ('[keymap]\nstep = "j"\nabort = "j"', '[keymap] step = "j": j is already abort\'s key'),
        ('[keymap]\nstep = ""', '[keymap] step = "": a key is text'),
        ("[keymap]\nstep = 1", "[keymap] step = 1: a key is text"),
        ('keymap = "x"', 'keymap = "x": keymap is a table'),
        ("theme = true", "theme = true: a theme is a name"),
        ("[keymap\n", "not valid TOML"),
    ],
)
def test_config_problems(
    text: str, problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text + "\n")
    monkeypatch.setenv("MONGOTX_TUI_CONFIG", str(config))
    loaded = load_config()
    assert any(p.startswith(problem) for p in loaded.problems), loaded.problems


def test_swapped_keys_are_not_a_clash() -> None:
    from mongotx_tui.config import check_config

    config = check_config({"keymap": {"step": "n", "next-step": "s"}})
    assert config.problems == [] and config.keymap == {"step": "n", "next-step": "s"}


def test_default_keys_do_not_clash() -> None:
    from mongotx_tui.config import check_config

    assert check_config({}).problems == []

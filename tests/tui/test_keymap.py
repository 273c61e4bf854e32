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
    config.write_text('theme = "textual-light"\n[keymap]\nstep = "n"\n')
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
        await pilot.press("n")
        await until(pilot, lambda: lane.queue[0].status is OpStatus.DONE, what="step on n")


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

"""The footer shows the screen's keys, follows the bindings, and a click runs the key.

The real app on the real embedded sandbox, driven by a Pilot.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tuihelpers import queue_op, ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config, load_config
from mongotx_tui.model.lanes import OpStatus
from mongotx_tui.widgets.footer import KeyFooter


def footer_text(app: MongoTxApp) -> str:
    return str(app.screen.query_one(KeyFooter).render())


async def test_footer_keys_and_click_runs_the_key() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        text = footer_text(app)
        for label in (" a Add op ", " s Step ", " c Commit ", " f1 Help "):
            assert label in text
        assert text.rstrip().endswith("^p Commands")  # the palette key, right-aligned
        assert "Next step" not in text  # hidden until a scenario is loaded

        lane = app.wb.lanes[0]
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        x = text.index(" s Step ") + 1
        assert await pilot.click(KeyFooter, offset=(x, 0))
        await until(pilot, lambda: lane.queue[0].status is OpStatus.DONE, what="step by click")

        await walkthroughs.load_scenario(pilot, "write-conflict")
        await until(pilot, lambda: " n Next step " in footer_text(app), what="next step shown")


async def test_footer_shows_remapped_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\nstep = "j"\n')
    monkeypatch.setenv("MONGOTX_TUI_CONFIG", str(config))
    app = MongoTxApp(config=load_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await until(pilot, lambda: " j Step " in footer_text(app), what="remapped key shown")
        assert " s Step " not in footer_text(app)

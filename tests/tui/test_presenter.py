"""Presenter mode (issue 14 item 3): the real app, the embedded sandbox, Pilot keys."""

from __future__ import annotations

import time

from textual.color import Color
from tuihelpers import ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus
from mongotx_tui.screens import presenter


def near(color: Color, css: str) -> bool:
    """The same colour, give or take the rounding of Textual's colour blending."""
    want = Color.parse(css)
    return all(abs(a - b) <= 2 for a, b in zip(color.rgb, want.rgb, strict=True))


def banner_text(app: MongoTxApp) -> str:
    return str(app.screen.query_one("#caption").render())


async def test_present_flag_applies_the_theme_and_hides_the_chrome():
    app = MongoTxApp(config=Config(), present=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        screen = app.screen
        assert app.theme == presenter.THEME_NAME
        assert app.current_theme.background == "#000000"
        assert screen.has_class("-present")
        assert not screen.query_one("#footer").display
        assert not any(b.display for b in screen.query(".lane-buttons"))
        banner = screen.query_one("#caption")
        assert banner.display and banner.region.height >= 3
        assert "Presenter mode" in banner_text(app)
        lane = screen.query_one(".lane")
        assert lane.styles.padding.left == 2  # the larger spacing


async def test_key_toggles_presenter_mode_and_restores_the_theme():
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        before = app.theme
        assert app.screen.query_one("#footer").display
        await pilot.press("P")
        await until(pilot, lambda: app.screen.has_class("-present"), what="presenter on")
        assert app.theme == presenter.THEME_NAME
        assert not app.screen.query_one("#footer").display
        await pilot.press("P")
        await until(pilot, lambda: not app.screen.has_class("-present"), what="presenter off")
        assert app.theme == before
        assert app.screen.query_one("#footer").display
        assert not app.screen.query_one("#caption").display


async def test_write_conflict_caption_comes_from_the_servers_reply():
    app = MongoTxApp(config=Config(), present=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await walkthroughs.conflict(pilot)
        b = app.wb.lanes[1]
        assert b.queue[0].status is OpStatus.FAILED
        error = b.queue[0].error
        assert (error.code, error.code_name) == (112, "WriteConflict")  # the server's reply
        await until(pilot, lambda: "conflicted" in banner_text(app), what="the caption")
        assert banner_text(app) == (
            "B's update conflicted with A's open transaction: WriteConflict, "
            "retry the whole transaction"
        )
        assert app.screen.query_one("#caption").has_class("-failed")


async def test_scenario_step_caption_is_the_steps_own_note():
    app = MongoTxApp(config=Config(), present=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "write-conflict")
        play = app.wb.play
        await walkthroughs.next_steps(pilot, 7)  # 7: B starts its retry, with a note
        await until(pilot, lambda: len(play.checks) >= 7, what="seven steps")
        await until(pilot, lambda: "Step 7" in banner_text(app), what="step 7's caption")
        assert banner_text(app).startswith("Step 7 · The retry starts a new transaction.")


async def test_what_changed_is_highlighted_then_fades():
    app = MongoTxApp(config=Config(), present=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await walkthroughs.conflict(pilot)
        b = app.wb.lanes[1]
        lane_b = app.screen.query_one(f"#lane-{b.id}")
        await until(pilot, lambda: lane_b.has_class("-changed"), what="B highlighted")
        assert lane_b.styles.tint.a > 0  # the tint, fading
        theme = app.current_theme
        assert near(lane_b.styles.border.top[1], theme.warning)  # the changed border
        # a few seconds later it is gone (waited for, not timed)
        await until(
            pilot, lambda: not lane_b.has_class("-changed"), presenter.HIGHLIGHT_S + 20, "fade"
        )
        assert lane_b.styles.tint.a == 0
        assert near(lane_b.styles.border.top[1], theme.accent)  # back to the active lane's


async def test_the_highlight_fades_even_when_the_app_falls_behind():
    """A busy machine: the event loop is held for longer than the fade's ticks, so the
    timer skips some (Textual's timers skip late ticks). The highlight still ends (CI under
    load found it stuck on, the fade counting ticks that never came)."""
    app = MongoTxApp(config=Config(), present=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await walkthroughs.conflict(pilot)
        lane_b = app.screen.query_one(f"#lane-{app.wb.lanes[1].id}")
        await until(pilot, lambda: lane_b.has_class("-changed"), what="B highlighted")
        time.sleep(presenter.HIGHLIGHT_S / 2)  # the loop held: the ticks due meanwhile skip
        await until(
            pilot, lambda: not lane_b.has_class("-changed"), presenter.HIGHLIGHT_S + 20, "fade"
        )
        assert lane_b.styles.tint.a == 0

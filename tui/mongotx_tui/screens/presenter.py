"""Presenter mode, for a projector: a high-contrast theme, no footer or toolbar, more
space, a caption banner saying what just happened, and a slow highlight of what changed.

Imported when presenter mode is first turned on (the workbench starts without it). The
screen hands it every flush (`flushed`); the layout itself is `presenter.tcss` (read into
the app's stylesheet on first use), keyed on the screen's `-present` class.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.color import Color
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import Static

from ..model.caption import Caption, caption, step_number
from ..model.events import Changed
from ..model.literals import format_value
from ..model.timeline import EventKind

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer

    from ..backend.workbench import Workbench
    from ..model.timeline import TimelineEvent

CSS = Path(__file__).resolve().parent.parent / "presenter.tcss"
THEME_NAME = "mongotx-presenter"
HIGHLIGHT_S = 3.0  # how long what changed stays highlighted: slow enough for a room to see
TINT_ALPHA = 0.35  # the highlight's tint at its start; it fades to nothing over HIGHLIGHT_S
FADE_STEPS = 6
STEP_KINDS = frozenset({EventKind.OP, EventKind.TXN})

# Black and white with saturated accents: strong contrast on a washed-out projector.
PRESENTER_THEME = Theme(
    name=THEME_NAME,
    primary="#FFD400",
    secondary="#00E5FF",
    accent="#FFD400",
    warning="#FFB000",
    error="#FF4D4D",
    success="#3DFF6E",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#262626",
    boost="#1A1A1A",
    dark=True,
    text_alpha=1.0,
    variables={
        "block-cursor-background": "#FFD400",
        "block-cursor-foreground": "#000000",
        "footer-background": "#000000",
        "footer-foreground": "#FFFFFF",
    },
)

WELCOME = Caption(
    "Presenter mode: each step's caption shows here", "P leaves it · F1 lists the keys"
)


class CaptionBanner(Static):
    """The current step's caption, large and on its own band."""

    def __init__(self) -> None:
        super().__init__("", id="caption")

    def show(self, cap: Caption) -> None:
        text = Text(cap.text, style="bold")
        if cap.detail:
            text.append("\n" + cap.detail, style="")
        self.set_class(not cap.ok, "-failed")
        self.update(text)


class Presenter:
    """Presenter mode on one workbench screen: turns it on and off, and follows the steps."""

    def __init__(self, screen: Screen[None], wb: Workbench) -> None:
        self.screen = screen
        self.wb = wb
        self.on = False
        self.banner: CaptionBanner | None = None
        self.caption: Caption = WELCOME
        self._theme_before = ""
        self._seen = wb.timeline.last.seq if wb.timeline.last else 0
        self._committed: str | None = None  # the committed page last shown (None: not yet)
        self._timers: dict[int, Timer] = {}  # each highlighted widget's end of highlight

    # -- on and off --------------------------------------------------------------------
    def toggle(self) -> None:
        self.turn_off() if self.on else self.turn_on()

    def turn_on(self) -> None:
        app, screen = self.screen.app, self.screen
        if THEME_NAME not in app.available_themes:
            app.register_theme(PRESENTER_THEME)
        # Its rules join the app's stylesheet now, not at start: each rule more is matched
        # against every widget of the first layout (the cold start is benchmarked).
        restyle = not app.stylesheet.has_source(str(CSS))
        if restyle:
            app.stylesheet.read(CSS)
        self._theme_before = app.theme
        if app.theme != THEME_NAME:
            app.theme = THEME_NAME  # restyles everything (Textual refreshes the CSS)
        elif restyle:
            app.refresh_css(animate=False)
        if self.banner is None:
            self.banner = CaptionBanner()
            screen.mount(self.banner, before=screen.query_one("#lanes"))
        self.banner.show(self.caption)
        screen.add_class("-present")
        self.on = True

    def turn_off(self) -> None:
        app = self.screen.app
        if app.theme == THEME_NAME and self._theme_before:
            app.theme = self._theme_before
        self.screen.remove_class("-present")
        self.on = False

    # -- following the workbench -----------------------------------------------------------
    def flushed(self, kinds: set[Changed]) -> None:
        """The screen showed what changed: caption the newest step, highlight what moved."""
        wb = self.wb
        new = wb.timeline.after(self._seen)
        if new:
            self._seen = new[-1].seq
        if Changed.COMMITTED in kinds:
            key, self._committed = self._committed, self._committed_key()
            if self.on and key is not None and key != self._committed:
                for widget in self.screen.query("#committed"):
                    self.highlight(widget)
        if not self.on:
            return
        # The steps of lanes (a commit's change event follows its step: the step keeps
        # the caption, the committed panel's highlight shows the change).
        steps = [e for e in new if e.kind in STEP_KINDS and e.lane]
        if steps:
            self.caption = self._caption(steps[-1])
            if self.banner is not None:
                self.banner.show(self.caption)
                self.highlight(self.banner)
            for name in {e.lane for e in steps}:
                lane = next((ln for ln in wb.lanes if ln.name == name), None)
                if lane is not None:
                    for widget in self.screen.query(f"#lane-{lane.id}"):
                        self.highlight(widget)

    def _caption(self, event: TimelineEvent) -> Caption:
        """The row's caption, with the server's error (the lane's, when it is the one the
        row shows) and the scenario step's note."""
        wb = self.wb
        error = None
        lane = next((ln for ln in wb.lanes if ln.name == event.lane), None)
        if not event.ok and lane is not None and lane.last_error is not None:
            if lane.last_error.headline in event.outcome:
                error = lane.last_error
        note = ""
        number = step_number(event.what)
        play = wb.play
        if play is not None and number is not None and 0 < number <= play.total:
            note = play.scenario.steps[number - 1].note
        return caption(event, error, note)

    def _committed_key(self) -> str:
        return format_value(self.wb.page.docs)

    def highlight(self, widget: Widget) -> None:
        """Mark `widget` as changed for HIGHLIGHT_S: a `-changed` class (its border, in
        presenter.tcss) and a tint that fades out in FADE_STEPS steps over the same time.
        Steps, not a 60 fps animation: a style animation repaints the whole lane every
        frame, which made each step of the workbench seconds slower on a busy 2-core
        machine; a few steps read the same from the back of a room."""
        accent = Color.parse(self.screen.app.current_theme.accent or "yellow")
        timer = self._timers.pop(id(widget), None)
        if timer is not None:
            timer.stop()
        widget.add_class("-changed")
        widget.styles.tint = accent.with_alpha(TINT_ALPHA)
        start = time.monotonic()

        def fade() -> None:
            # From the time elapsed, not by counting ticks: a timer that falls behind
            # (a busy machine) skips ticks, and a count would then never reach the end,
            # leaving the highlight on for good.
            left = 1 - (time.monotonic() - start) / HIGHLIGHT_S
            if left > 1 / (2 * FADE_STEPS):
                widget.styles.tint = accent.with_alpha(TINT_ALPHA * left)
                return
            timer = self._timers.pop(id(widget), None)
            if timer is not None:
                timer.stop()
            widget.remove_class("-changed")
            widget.styles.clear_rule("tint")

        self._timers[id(widget)] = widget.set_interval(HIGHLIGHT_S / FADE_STEPS, fade)

    @staticmethod
    def highlighted(widget: Widget) -> bool:
        return widget.has_class("-changed")

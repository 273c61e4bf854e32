"""Rename and recolour a lane: a name Input checked as typed, and a colour RadioSet."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from ..model.lanes import LANE_COLOURS
from ..model.naming import MAX_LANE_NAME, lane_name_problem
from . import DIALOGS_CSS
from .checks import Problem


class RenameLaneScreen(ModalScreen[tuple[str, str] | None]):
    """Returns (name, colour), or None when cancelled. An invalid name is flagged in place
    and can't be applied; what was typed stays."""

    CSS_PATH = DIALOGS_CSS

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="rename-cancel"),
        Binding("f10", "apply", "Apply", id="rename-apply"),
    ]

    def __init__(self, name: str, colour: str, others: list[str], locked: str = "") -> None:
        """`others`: the other lanes' names. `locked`: why the name can't change (a loaded
        scenario names its lanes), or ""."""
        super().__init__()
        self.lane_name = name
        self.colour = colour
        self.others = others
        self.locked = locked

    def compose(self) -> ComposeResult:
        with Vertical(id="rename-dialog", classes="dialog"):
            yield Label(f"Lane {self.lane_name}: name and colour", classes="dialog-title")
            yield Label(f"name (unique, at most {MAX_LANE_NAME} characters)", classes="field-label")
            yield Input(
                self.lane_name,
                id="lane-name",
                classes="field",
                disabled=bool(self.locked),
                validators=[Problem(self._name_problem)],
            )
            yield Static("", id="lane-name-error", classes="field-error", markup=False)
            if self.locked:
                yield Static(self.locked, id="lane-name-note", classes="dim", markup=False)
            yield Label("colour", classes="field-label")
            with RadioSet(id="lane-colours"):
                for colour in LANE_COLOURS:
                    yield RadioButton(
                        colour,
                        value=colour == self.colour,
                        id=f"colour-{colour}",
                        classes=f"swatch-{colour}",
                    )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply (F10)", variant="primary", id="apply")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#lane-colours" if self.locked else "#lane-name").focus()

    def _name_problem(self, name: str) -> str | None:
        return None if self.locked else lane_name_problem(name, self.others)

    def _problem(self) -> str | None:
        return self._name_problem(self.query_one("#lane-name", Input).value)

    @on(Input.Changed, "#lane-name")
    def _check(self) -> None:
        problem = self._problem()
        self.query_one("#lane-name-error", Static).update(f"✗ {problem}" if problem else "")
        self.query_one("#apply", Button).disabled = problem is not None

    @on(Input.Submitted, "#lane-name")
    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if self._problem() is not None:
            return  # flagged in place; the Apply button is disabled meanwhile
        pressed = self.query_one("#lane-colours", RadioSet).pressed_button
        colour = (pressed.id or "").removeprefix("colour-") if pressed else self.colour
        self.dismiss((self.query_one("#lane-name", Input).value.strip(), colour))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

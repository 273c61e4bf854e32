"""Inject a fault: presets that name what they teach, each a `failCommand` fail point the
form shows and lets you change; the fail point set now, and a way to turn it off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..model.faults import FAIL_COMMAND, FaultSpec, Preset, presets
from . import DIALOGS_CSS

if TYPE_CHECKING:
    from ..model.faults import ActiveFailPoint

# Set the fail point: (the server's error in one line, or "" when set; the sentence saying
# the deployment refuses fail points, or "").
Setter = Callable[[FaultSpec, str], Awaitable[tuple[str, str]]]
Off = Callable[[], Awaitable[str]]  # turn it off: the server's error, or ""


def _int(text: str, what: str) -> int | None:
    """An optional whole number typed in a field; ValueError names the field."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} must be a whole number") from None


def _names(text: str) -> list[str]:
    return [n for n in (part.strip() for part in text.replace(",", " ").split()) if n]


class FaultInjectionScreen(ModalScreen[bool]):
    """Returns True when a fail point was set or turned off."""

    CSS_PATH = DIALOGS_CSS
    BINDINGS = [
        Binding("escape", "cancel", "Close", id="faults-cancel"),
        Binding("f10", "apply", "Set", id="faults-set"),
        Binding("f9", "off", "Turn off", id="faults-off"),
    ]

    def __init__(
        self, active: ActiveFailPoint | None, refused: str, setter: Setter, off: Off
    ) -> None:
        super().__init__()
        self.active = active
        self.refused = refused
        self.setter = setter
        self.off = off
        self.presets: tuple[Preset, ...] = presets()
        self.preset = self.presets[0]

    def compose(self) -> ComposeResult:
        with Vertical(id="faults-dialog", classes="dialog"):
            yield Label("Inject a fault (failCommand on admin)", classes="dialog-title")
            yield Static("", id="faults-state", markup=False)
            yield OptionList(*(Option(p.title, id=p.id) for p in self.presets), id="faults-presets")
            yield Static("", id="faults-lesson", classes="dim", markup=False)
            with Horizontal(classes="faults-row"):
                yield Label("commands", classes="faults-label")
                yield Input(id="fp-commands", compact=True, placeholder="e.g. commitTransaction")
                yield Label("times", classes="faults-label -second")
                yield Input(id="fp-times", compact=True, placeholder="0: always")
            with Horizontal(classes="faults-row"):
                yield Label("error code", classes="faults-label")
                yield Input(id="fp-code", compact=True, placeholder="e.g. 91")
                yield Label("labels", classes="faults-label -second")
                yield Input(id="fp-labels", compact=True, placeholder="e.g. RetryableWriteError")
            with Horizontal(classes="faults-row"):
                yield Label("writeConcernError", classes="faults-label")
                yield Input(id="fp-wce", compact=True, placeholder="64 or 100")
                yield Label("block ms", classes="faults-label -second")
                yield Input(id="fp-block", compact=True, placeholder="e.g. 2000")
            with Horizontal(classes="faults-row"):
                yield Label("closeConnection", classes="faults-label")
                yield Checkbox("", id="fp-close", compact=True)
                yield Label("appName", classes="faults-label -second")
                yield Input(id="fp-app", compact=True, placeholder="any client")
            yield Static("", id="faults-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Set (F10)", variant="primary", id="faults-apply", compact=True)
                yield Button("Turn off (F9)", id="faults-turn-off", compact=True)
                yield Button("Close (Esc)", id="faults-close", compact=True)

    def on_mount(self) -> None:
        self._fill(self.preset)
        self._show_state()
        self.query_one("#faults-presets", OptionList).focus()

    def _show_state(self) -> None:
        state = self.query_one("#faults-state", Static)
        if self.refused:
            state.update(self.refused)
        elif self.active is not None:
            state.update(f"Active: {self.active.status()}")
        else:
            state.update("No fail point set by the workbench.")
        state.set_class(bool(self.refused), "-refused")
        refused = bool(self.refused)
        self.query_one("#faults-presets", OptionList).disabled = refused
        self.query_one("#faults-apply", Button).disabled = refused
        self.query_one("#faults-turn-off", Button).disabled = self.active is None

    @on(OptionList.OptionHighlighted, "#faults-presets")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        chosen = next(p for p in self.presets if p.id == event.option.id)
        if chosen is not self.preset:
            self.preset = chosen
            self._fill(chosen)

    @on(OptionList.OptionSelected, "#faults-presets")
    def _selected(self) -> None:
        self.query_one("#fp-commands", Input).focus()

    def _fill(self, preset: Preset) -> None:
        spec = preset.spec
        self.query_one("#faults-lesson", Static).update(preset.lesson)
        values = {
            "#fp-commands": ", ".join(spec.commands),
            "#fp-times": str(spec.times),
            "#fp-code": "" if spec.error_code is None else str(spec.error_code),
            "#fp-labels": ", ".join(spec.labels),
            "#fp-wce": "" if spec.wce_code is None else str(spec.wce_code),
            "#fp-block": "" if spec.block_ms is None else str(spec.block_ms),
            "#fp-app": spec.app_name,
        }
        for selector, value in values.items():
            self.query_one(selector, Input).value = value
        self.query_one("#fp-close", Checkbox).value = spec.close
        self._error("")

    def spec(self) -> FaultSpec:
        """The form as a fail point; ValueError says what to fix."""
        if self.preset.spec.fail_point != FAIL_COMMAND:
            return self.preset.spec  # not failCommand: the form's fields do not apply
        text = {w.id: w.value for w in self.query(Input) if w.id}
        times = _int(text["fp-times"], "times")
        spec = FaultSpec(
            commands=_names(text["fp-commands"]),
            error_code=_int(text["fp-code"], "error code"),
            labels=_names(text["fp-labels"]),
            close=self.query_one("#fp-close", Checkbox).value,
            wce_code=_int(text["fp-wce"], "writeConcernError"),
            block_ms=_int(text["fp-block"], "block ms"),
            app_name=text["fp-app"].strip(),
            times=1 if times is None else times,
        )
        problem = spec.problem()
        if problem is not None:
            raise ValueError(problem)
        return spec

    def _error(self, text: str) -> None:
        error = self.query_one("#faults-error", Static)
        error.update(f"✗ {text}" if text else "")
        error.set_class(bool(text), "-shown")

    @on(Button.Pressed, "#faults-apply")
    def action_apply(self) -> None:
        if self.refused:
            return
        try:
            spec = self.spec()
        except ValueError as exc:
            self._error(str(exc))
            return
        self._error("")
        title = self.preset.title if self.preset.id != "custom" else "Custom fault"
        self._set(spec, title)

    @work(exclusive=True, group="faults", exit_on_error=False, description="set fail point")
    async def _set(self, spec: FaultSpec, title: str) -> None:
        error, refused = await self.setter(spec, title)
        if not error:
            self.dismiss(True)
            return
        if refused:
            self.refused = refused
            self._show_state()
        self._error(error)

    @on(Button.Pressed, "#faults-turn-off")
    def action_off(self) -> None:
        if self.active is not None:
            self._off()

    @work(exclusive=True, group="faults", exit_on_error=False, description="fail point off")
    async def _off(self) -> None:
        error = await self.off()
        if not error:
            self.dismiss(True)
        else:
            self._error(error)

    @on(Button.Pressed, "#faults-close")
    def action_cancel(self) -> None:
        self.dismiss(False)

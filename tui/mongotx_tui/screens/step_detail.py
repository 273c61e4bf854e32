"""A timeline row in full (Enter on it): the step as typed, its options, what the driver
sent and the server answered, the documents it touched and the lane before and after."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from ..model.literals import format_value
from ..widgets.render import badges, fmt_ms
from . import DIALOGS_CSS

if TYPE_CHECKING:
    from ..model.step_detail import LaneMoment, StepDetail
    from ..model.timeline import TimelineEvent


def _section(text: Text, title: str) -> None:
    text.append(f"\n{title}\n", style="bold")


def _json(value: Any) -> str:
    return format_value(value, indent=2)


def _moment(text: Text, title: str, moment: LaneMoment | None, pending: str) -> None:
    _section(text, title)
    if moment is None:
        text.append(pending + "\n", style="dim")
        return
    text.append(moment.describe() + "\n")
    if moment.docs is None:
        text.append("no view of its own\n", style="dim")
    elif moment.changed:
        for line in moment.changed:
            text.append(f"  {line}\n", style="yellow")
    else:
        text.append("  its transaction reads the committed documents\n", style="dim")


def step_text(ev: TimelineEvent) -> Text:
    """The row's details as one text (a row without step details: the row itself)."""
    text = Text()
    when = time.strftime("%H:%M:%S", time.localtime(ev.at)) + f".{int(ev.at * 1000) % 1000:03d}"
    who = f"lane {ev.lane}" if ev.lane not in ("", "server") else ev.lane or "the workbench"
    text.append(f"{ev.what}\n", style="bold")
    text.append(f"{who} · {when} · {ev.kind.value}", style="dim")
    if ev.duration_ms is not None:
        text.append(f" · took {fmt_ms(ev.duration_ms)}", style="dim")
    text.append("\n")
    _section(text, "Outcome")
    text.append(ev.outcome + "\n", style="" if ev.ok else "red")
    if ev.check:
        text.append(f"✗ {ev.check}\n", style="bold red")
    detail: StepDetail | None = ev.detail
    if detail is None:
        return text
    if detail.error is not None:
        err = detail.error
        code = f"code {err.code} · codeName {err.code_name}" if err.code is not None else "no code"
        text.append(code + "\n", style="bold red")
        if err.labels:
            text.append("labels ")
            text.append_text(badges(err.labels))
            text.append("\n")
        if err.conflict_with:
            text.append(f"↔ {err.conflict_with}\n", style="yellow")
        text.append(err.message + "\n", style="red")
        text.append("→ " + err.advice + "\n", style="italic")
    elif detail.result is not None:
        text.append("result " + _json(detail.result) + "\n")
    if detail.operation:
        _section(text, "Operation")
        for name, value in detail.operation.items():
            text.append(f"{name}: ", style="dim")
            text.append(value + "\n")
    _section(text, "Options")
    text.append(detail.options + "\n")
    _section(text, "Documents touched")
    touched = detail.touched()
    if touched:
        for line in touched:
            text.append(f"  {line}\n", style="yellow")
    else:
        text.append("none that its reply or its transaction's view shows\n", style="dim")
    _section(text, f"Commands sent and the server's replies ({len(detail.commands)})")
    if not detail.commands:
        text.append("none (nothing reached the server, or the monitor was off)\n", style="dim")
    for record in detail.commands:
        took = f" · {fmt_ms(record.duration_ms)}" if record.duration_ms is not None else ""
        again = f" · attempt {record.attempt}" if record.attempt > 1 else ""
        text.append(f"→ {record.name} on {record.database}{took}{again}\n", style="bold")
        if record.command:
            text.append(_json(record.command) + "\n", style="cyan")
        text.append(f"← {record.outcome()}\n", style="bold")
        if record.reply is not None:
            text.append(_json(record.reply) + "\n")
    _moment(text, f"Lane {detail.lane} before", detail.before, "not recorded")
    _moment(text, f"Lane {detail.lane} after", detail.after, "reading the lane's view…")
    text.rstrip()
    return text


class StepDetailScreen(ModalScreen[None]):
    """One timeline row in full; Esc closes."""

    CSS_PATH = [DIALOGS_CSS, Path(__file__).parent / "step_detail.tcss"]
    BINDINGS = [Binding("escape,q", "close", "Close", id="step-close")]
    AUTO_FOCUS = "#step-scroll"  # the arrow keys scroll the details

    def __init__(self, event: TimelineEvent) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        with Vertical(id="step-dialog", classes="dialog"):
            yield Label(f"Timeline step #{self.event.seq}", classes="dialog-title")
            with VerticalScroll(id="step-scroll"):
                yield Static(step_text(self.event), id="step-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (Esc)", id="close")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)

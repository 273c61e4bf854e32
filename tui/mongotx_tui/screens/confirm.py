"""Ask before an act that loses work or touches a deployment: what it does, and choices."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from . import DIALOGS_CSS


class ConfirmScreen(ModalScreen[str | None]):
    """Returns the id of the choice pressed, or None when cancelled (Esc, or Cancel).

    `choices` are (id, label) pairs; the first is the primary button. Cancel is always
    offered last and has the focus, so a stray Enter never confirms."""

    CSS_PATH = DIALOGS_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm-cancel")]

    def __init__(self, title: str, message: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.message, id="confirm-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for i, (choice, label) in enumerate(self.choices):
                    variant = "warning" if i == 0 else "default"
                    yield Button(label, variant=variant, id=f"choice-{choice}")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or "cancel"
        self.dismiss(None if button == "cancel" else button.removeprefix("choice-"))

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_transactions_text(names: list[str]) -> str:
    """Who has a transaction open: 'Lane A has…' or 'Lanes A, B have…'."""
    if len(names) == 1:
        return f"Lane {names[0]} has a transaction open"
    return f"Lanes {', '.join(names)} have transactions open"

"""The dialog that asks where to write a file (a saved scenario, a diagram): a title, what
will be written, the path, and the reason a path is refused (a served tab's folder, an
unknown format)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from . import DIALOGS_CSS

if TYPE_CHECKING:
    from ..backend.confine import Served


class FileDialog(ModalScreen[str | None]):
    """Returns the chosen path, placed in a served tab's folder, or None when cancelled.

    Subclasses name the dialog (`ID`: the ids of its parts derive from it), its title,
    its button, and may refuse a path with a reason (`refuse`)."""

    CSS_PATH = DIALOGS_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="file-dialog-cancel")]

    ID = "file"
    TITLE = ""
    BUTTON = "Save"
    PROBLEM_ID = "error"  # the id suffix of the line saying why a path is refused

    def __init__(self, default: Path, explanation: str, served: Served | None = None) -> None:
        super().__init__()
        self.default = default
        self.explanation = explanation
        self.served = served  # a browser tab: the file stays in its folder

    def compose(self) -> ComposeResult:
        with Vertical(id=f"{self.ID}-dialog", classes="dialog"):
            yield Label(self.TITLE, classes="dialog-title")
            yield Static(self.explanation, classes="dim", markup=False)
            yield Label("file", classes="field-label")
            yield Input(str(self.default), id=f"{self.ID}-path")
            yield Static("", id=f"{self.ID}-{self.PROBLEM_ID}", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.BUTTON, variant="primary", id="file-dialog-ok")
                yield Button("Cancel (Esc)", id="cancel")

    def refuse(self, path: str) -> str | None:
        """Why `path` cannot be written (before the served tab's rules), or None."""
        return None

    @on(Input.Submitted)
    @on(Button.Pressed, "#file-dialog-ok")
    def _chosen(self) -> None:
        path = self.query_one(f"#{self.ID}-path", Input).value.strip()
        refused = self.refuse(path) if path else "Type a file name"
        if refused is None:
            from .served import place

            target, refused = place(self.served, path)
        if refused:
            self.query_one(f"#{self.ID}-{self.PROBLEM_ID}", Static).update(refused)
            return
        self.dismiss(target)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

"""A lane's view as a list: what its transaction reads, each document marked against the
committed state. Enter opens one in the document dialog."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..model.lanes import ViewDoc
from ..model.literals import format_value
from ..widgets.render import view_doc_line
from . import DIALOGS_CSS

WHAT = {  # what the document dialog shows first, for each mark
    " ": "lane {}'s version (same as committed)",
    "~": "lane {}'s version (changed)",
    "+": "lane {}'s version (inserted, not committed)",
    "-": "deleted by lane {}: the committed version",
}


class LaneDocsScreen(ModalScreen[None]):
    """Receives the lane's documents as read when it opened (a snapshot, not live)."""

    CSS_PATH = DIALOGS_CSS

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="view-close"),
        Binding("j", "cursor('down')", "Down", show=False, id="view-down"),
        Binding("k", "cursor('up')", "Up", show=False, id="view-up"),
    ]

    def __init__(self, lane_name: str, ns: str, docs: list[ViewDoc]) -> None:
        super().__init__()
        self.lane_name = lane_name
        self.ns = ns
        self.docs = docs

    def compose(self) -> ComposeResult:
        differ = sum(1 for d in self.docs if d.mark != " ")
        with Vertical(id="view-dialog", classes="dialog"):
            yield Label(
                f"Lane {self.lane_name} reads in its transaction: {self.ns}",
                classes="dialog-title",
                markup=False,
            )
            yield OptionList(
                *(Option(view_doc_line(d.mark, d.doc), id=str(i)) for i, d in enumerate(self.docs)),
                id="view-list",
            )
            count = f"{len(self.docs)} document{'s' if len(self.docs) != 1 else ''}"
            yield Static(
                f"{count}, {differ} differ{'s' if differ == 1 else ''} from committed · "
                "enter shows one in full",
                classes="dim",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Show (Enter)", variant="primary", id="show")
                yield Button("Close (Esc)", id="close")

    def on_mount(self) -> None:
        listing = self.query_one("#view-list", OptionList)
        listing.focus()
        # start on the first document that differs: usually the one people came for
        first = next((i for i, d in enumerate(self.docs) if d.mark != " "), 0)
        listing.highlighted = first

    def action_cursor(self, where: str) -> None:
        listing = self.query_one("#view-list", OptionList)
        if where == "down":
            listing.action_cursor_down()
        else:
            listing.action_cursor_up()

    @on(OptionList.OptionSelected, "#view-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._show(int(event.option.id or 0))

    @on(Button.Pressed, "#show")
    def _show_highlighted(self) -> None:
        highlighted = self.query_one("#view-list", OptionList).highlighted
        if highlighted is not None:
            self._show(highlighted)

    def _show(self, index: int) -> None:
        from .dialogs import DocumentScreen

        d = self.docs[index]
        title = f"{self.ns} _id {format_value(d.doc.get('_id'))} · "
        title += WHAT[d.mark].format(self.lane_name)
        if d.mark == "~":
            committed = "committed version (outside the transaction)"
            screen = DocumentScreen(d.doc, title, d.committed, committed)
        else:
            screen = DocumentScreen(d.doc, title)
        self.app.push_screen(screen)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)

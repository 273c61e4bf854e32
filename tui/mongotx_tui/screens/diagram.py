"""Export the workbench's history as a sequence diagram (model.diagram): a small dialog
asks for the file (its extension picks SVG, Mermaid or text), a worker writes it, and a
notification says where it went."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ..model.diagram_files import format_problem
from . import DIALOGS_CSS

if TYPE_CHECKING:
    from ..backend.confine import Served


class DiagramScreen(ModalScreen[str | None]):
    """Asks where to write the diagram; returns the path (checked for a known format)."""

    CSS_PATH = DIALOGS_CSS

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="diagram-cancel")]

    def __init__(self, default: Path, steps: int, served: Served | None = None) -> None:
        super().__init__()
        self.default = default
        self.steps = steps
        self.served = served  # a browser tab: the file stays in its folder

    def compose(self) -> ComposeResult:
        with Vertical(id="diagram-dialog", classes="dialog"):
            yield Label("Export the history as a diagram", classes="dialog-title")
            yield Static(
                f"{self.steps} step{'s' if self.steps != 1 else ''}, one column per lane, "
                "conflicts and waits as arrows, the anomalies named, the committed values "
                "last. The file's extension picks the format: .svg (slides), .md (Mermaid, "
                "for notes) or .txt.",
                classes="dim",
                markup=False,
            )
            yield Label("file", classes="field-label")
            yield Input(str(self.default), id="diagram-path")
            yield Static("", id="diagram-problem", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="export")
                yield Button("Cancel (Esc)", id="cancel")

    @on(Input.Submitted, "#diagram-path")
    @on(Button.Pressed, "#export")
    def _export(self) -> None:
        path = self.query_one("#diagram-path", Input).value.strip()
        problem = format_problem(path) if path else "type a file name"
        if problem is not None:
            self.query_one("#diagram-problem", Static).update(problem[0].upper() + problem[1:])
            return
        from .served import place

        target, refused = place(self.served, path)
        if refused:
            self.query_one("#diagram-problem", Static).update(refused)
            return
        self.dismiss(target)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_and_export(screen: Any) -> None:
    """The export key: ask for the file, then draw and write it in a worker. `screen`: the
    WorkbenchScreen (not imported: it imports this module)."""
    wb = screen.wb
    rows = len(wb.anomalies.history.rows)
    if not rows:
        screen.notify("Nothing ran yet: run some steps, then export them", severity="warning")
        return
    name = wb.play.scenario.name if wb.play is not None else "workbench"
    served = getattr(screen.app, "served", None)
    folder = served.folder if served is not None else Path.cwd()
    default = folder / f"{name}-{screen._scenario_stamp()}.svg"

    def chosen(path: str | None) -> None:
        if path:
            screen.run_worker(
                _write(screen, Path(path)),
                group="diagram-export",
                exclusive=True,
                exit_on_error=False,
                description="export diagram",
            )

    screen.app.push_screen(DiagramScreen(default, rows, served), chosen)


async def _write(screen: Any, path: Path) -> None:
    from ..model.diagram_files import FORMATS, render
    from ..scenario.save import write_atomic

    wb = screen.wb
    title = wb.play.scenario.title if wb.play is not None else "The workbench"
    drawn = wb.anomalies.story(
        f"{title} ({wb.db}.{wb.collection})",
        [lane.name for lane in wb.lanes],
        {wb.collection: list(wb.page.docs)},
    )
    text = render(drawn, path.name)
    try:
        written = await asyncio.to_thread(write_atomic, path, text)
    except OSError as exc:
        screen.notify(f"Cannot write {path}: {exc.strerror}", severity="error", markup=False)
        return
    kind = FORMATS[written.suffix.lower()]
    from .served import hand_over

    more = hand_over(screen.app, written)
    screen.notify(f"Diagram ({kind}) written to {written.resolve()}{more}", markup=False)

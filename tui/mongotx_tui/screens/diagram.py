"""Export the workbench's history as a sequence diagram (model.diagram): a small dialog
asks for the file (its extension picks SVG, Mermaid or text), a worker writes it, and a
notification says where it went."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.diagram_files import format_problem
from .file_dialog import FileDialog

if TYPE_CHECKING:
    from ..backend.confine import Served


class DiagramScreen(FileDialog):
    """Asks where to write the diagram; returns the path (checked for a known format)."""

    ID, TITLE, BUTTON, PROBLEM_ID = (
        "diagram",
        "Export the history as a diagram",
        "Export",
        "problem",
    )

    def __init__(self, default: Path, steps: int, served: Served | None = None) -> None:
        super().__init__(
            default,
            f"{steps} step{'s' if steps != 1 else ''}, one column per lane, conflicts and "
            "waits as arrows, the anomalies named, the committed values last. The file's "
            "extension picks the format: .svg (slides), .md (Mermaid, for notes) or .txt.",
            served,
        )

    def refuse(self, path: str) -> str | None:
        problem = format_problem(path)
        return None if problem is None else problem[0].upper() + problem[1:]


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

"""Helpers for the workbench tests (imported as tuihelpers)."""

from __future__ import annotations

import time
from collections.abc import Callable


async def until(pilot, condition: Callable[[], object], timeout: float = 10.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)
    await pilot.pause()


async def ready(app, pilot):
    await until(pilot, lambda: app.ready_at is not None, 20, "workbench ready")


async def queue_op(app, pilot, **fields: str):
    """Open the editor (a), fill fields by typing into them, queue with F10."""
    from textual.widgets import Input, TextArea

    from mongotx_tui.screens.editor import EditorScreen

    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, EditorScreen), what="editor")
    screen = app.screen
    for name, text in fields.items():
        widget = screen.query_one(f"#f-{name}")
        if isinstance(widget, TextArea):
            widget.text = text  # posts TextArea.Changed like typing does
        elif isinstance(widget, Input):
            widget.value = text
        await pilot.pause()
    await pilot.press("f10")
    await until(pilot, lambda: not isinstance(app.screen, EditorScreen), what="editor closed")


def committed_values(app) -> dict[str, str]:
    from textual.widgets import DataTable

    table = app.screen.query_one("#committed-table", DataTable)
    return {
        str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)
    }

"""Helpers for the workbench tests (imported as tuihelpers)."""

from __future__ import annotations

from mongotx_tui import walkthroughs
from mongotx_tui.walkthroughs import click, until

__all__ = ["click", "committed_values", "queue_op", "ready", "until"]


async def ready(app, pilot):
    await walkthroughs.ready(pilot)


async def queue_op(app, pilot, **fields: str):
    """Open the editor (a), fill fields, queue with F10."""
    await walkthroughs.queue_op(pilot, **fields)


def committed_values(app) -> dict[str, str]:
    from textual.widgets import DataTable

    table = app.screen.query_one("#committed", DataTable)
    return {
        str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)
    }

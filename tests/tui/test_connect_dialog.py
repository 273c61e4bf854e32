"""The connect dialog (F2) offers the sandbox, a sandbox of 3 members, a URI and the proxy's
live view, and both ways out of it (Esc and Cancel) leave the workbench as it was."""

from __future__ import annotations

from tuihelpers import click, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.screens.dialogs import ConnectScreen
from mongotx_tui.screens.workbench_screen import WorkbenchScreen


async def test_escape_and_cancel_close_the_connect_dialog() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        ready_at = app.ready_at
        for way_out in ("escape", "#cancel"):
            await pilot.press("f2")
            await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
            buttons = {b.id for b in app.screen.query("Button")}
            assert {"go", "sandbox", "sandbox-3", "proxy", "cancel"} <= buttons
            if way_out == "escape":
                await pilot.press("escape")
            else:
                await click(pilot, way_out)
            await until(pilot, lambda: isinstance(app.screen, WorkbenchScreen), what=way_out)
        assert app.ready_at == ready_at  # nothing reconnected

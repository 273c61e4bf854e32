"""Faults at start: an unreachable server and a sandbox that cannot start both end on the
fault screen (error, masked URI, retry), never a traceback; the sandbox is one key away.

The real app, real pymongo, a real socket; driven by a Pilot.
"""

from __future__ import annotations

import socket

from tuihelpers import ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.screens.dialogs import FaultScreen


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shown(screen: FaultScreen) -> str:
    return "\n".join(str(w.render()) for w in screen.query("Static, Label"))


async def test_unreachable_server_shows_the_fault_then_opens_the_sandbox() -> None:
    uri = f"mongodb://alice:s3cret@127.0.0.1:{closed_port()}/?serverSelectionTimeoutMS=300"
    app = MongoTxApp(uri, config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FaultScreen), 10, "fault screen")
        text = shown(app.screen)
        assert "Cannot reach the server" in text
        assert "s3cret" not in text and "alice:****@" in text  # the password never shows
        await pilot.press("s")  # open the sandbox instead
        await ready(app, pilot)
        assert app.wb.is_sandbox and app.wb.deployment is not None
        assert app.wb.deployment.transactions_supported


async def test_sandbox_that_cannot_start_shows_the_fault_and_retries() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = MongoTxApp(config=Config(), sandbox_port=port)
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, FaultScreen), 10, "fault screen")
            assert "Cannot reach the server" in shown(app.screen)
            assert app.ready_at is None
            taken.close()  # the port is free again: retry now works
            await pilot.press("r")
            await ready(app, pilot)
            assert app.wb.sandbox is not None and f":{port}/" in app.wb.uri

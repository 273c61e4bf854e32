"""Faults at start: an unreachable server and a sandbox that cannot start both end on the
fault screen (error, masked URI, retry), never a traceback; the sandbox is one key away.

The real app, real pymongo, a real socket; driven by a Pilot.
"""

from __future__ import annotations

import socket

from tuihelpers import click, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.screens.confirm import ConfirmScreen
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


async def test_server_dies_mid_transaction_then_reconnect() -> None:
    """The lane shows the error and keeps its queue; F2 reconnects to the server when it is
    back, and operations run again."""
    from pymongo import MongoClient
    from tuihelpers import queue_op

    from mongotx_sandbox import ThreadedSandbox
    from mongotx_tui.model.lanes import OpStatus

    port = closed_port()
    server = ThreadedSandbox(port=port)
    uri = server.start() + "&serverSelectionTimeoutMS=500"
    with MongoClient(uri) as client:
        client.bank.accounts.insert_many([{"_id": "alice", "balance": 100}, {"_id": "bob"}])
    app = MongoTxApp(uri, config=Config())
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await ready(app, pilot)
            lane = app.wb.lanes[0]
            await pilot.press("t")
            await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
            await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 10}}")
            await pilot.press("s")
            await until(pilot, lambda: lane.queue[0].status is OpStatus.DONE, what="step 1")

            server.stop()  # the server dies mid-transaction
            await pilot.press("s")
            await until(pilot, lambda: lane.queue[1].status is OpStatus.FAILED, 15, "step 2")
            assert lane.last_error is not None and lane.last_error.message
            assert [item.status for item in lane.queue] == [OpStatus.DONE, OpStatus.FAILED]

            server = ThreadedSandbox(port=port)  # back, on the same address
            server.start()
            before = app.ready_at
            await pilot.press("f2")
            await pilot.pause()
            for key in uri:
                await pilot.press(key)
            await pilot.press("enter")
            # the lane's transaction is open as far as the app knows: switching asks first
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
            await click(pilot, "#choice-switch")
            await until(pilot, lambda: app.ready_at != before, 15, "reconnected")
            assert [item.status for item in lane.queue] == [OpStatus.DONE, OpStatus.FAILED]
            await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$set: {back: true}}")
            await pilot.press("o")  # run it outside any transaction
            await until(pilot, lambda: lane.queue[2].status is OpStatus.DONE, 15, "runs again")
    finally:
        server.stop()

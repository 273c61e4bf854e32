"""Against a standalone server (the sandbox with replset=None): the workbench says plainly
that transactions need a replica set, refuses them, polls instead of a change stream, and
keeps non-transactional work usable."""

from __future__ import annotations

from pymongo import MongoClient
from tuihelpers import committed_values, queue_op, ready, until

from mongotx_sandbox import ThreadedSandbox
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState


async def test_standalone_server() -> None:
    with ThreadedSandbox(replset=None) as uri:
        with MongoClient(uri) as seed:
            seed.bank.accounts.insert_one({"_id": "carol", "balance": 5})
        app = MongoTxApp(uri, "bank", "accounts", config=Config())
        async with app.run_test(size=(120, 36)) as pilot:
            await ready(app, pilot)
            assert app.wb.deployment.topology == "standalone"
            assert not app.wb.deployment.transactions_supported
            notice = " ".join(str(w.render()) for w in app.screen.query("Static"))
            assert "transactions need a replica set" in notice
            await until(pilot, lambda: "polling" in app.wb.watch_mode, what="polling fallback")

            lane = app.wb.lanes[0]
            await pilot.press("t")
            await pilot.pause(0.3)
            assert lane.txn_state is TxnState.NONE  # refused, with a message

            # Non-transactional work still runs, and the panel follows by polling.
            assert committed_values(app)["'carol'"] == "{balance: 5}"
            await queue_op(app, pilot, filter="{_id: 'carol'}", update="{$set: {balance: 7}}")
            await pilot.press("o")
            await until(pilot, lambda: lane.queue[0].status is OpStatus.DONE, what="plain op")
            await until(
                pilot,
                lambda: committed_values(app)["'carol'"] == "{balance: 7}",
                timeout=5,
                what="the polled panel",
            )

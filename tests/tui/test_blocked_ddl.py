"""A DDL blocked behind an open transaction, and a read waiting behind that DDL, say what
the server reports ($currentOp's waitingForLock): the real app and sandbox, a Pilot."""

from __future__ import annotations

from tuihelpers import ready, until

from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus


async def test_the_waiting_lines_name_the_lock_the_ddl_and_the_transaction() -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await walkthroughs.load_scenario(pilot, "ddl-waits")
        for _ in range(4):  # A starts and writes; C's createIndexes and B's read wait
            await pilot.press("n")
        a, b, c = app.wb.lanes
        index_build, read = c.queue[0], b.queue[0]
        await until(pilot, lambda: "lock" in index_build.waiting_for, 20, "C's waiting line")
        await until(pilot, lambda: "lock" in read.waiting_for, 20, "B's waiting line")
        txn = f"open transactions: lane A txn {a.txn_number}"
        assert index_build.waiting_for == f"the server reports it waiting for a lock; {txn}"
        assert read.waiting_for == (
            f"the server reports it waiting for a lock behind lane C's createIndexes; {txn}"
        )
        await pilot.press("n")  # A commits: both finish
        await until(pilot, lambda: read.status is OpStatus.DONE, 20, "B's read done")
        assert index_build.status is OpStatus.DONE

"""Nothing the user built is lost without being asked (issue 9): removing a lane that holds
work, loading a scenario over a hand-built workbench, quitting or switching with open
transactions; drafts keep a history; a failed switch leaves the workbench where it was.

The real app on the real embedded sandbox (or a sandbox started apart, which the app
treats as any other deployment), real pymongo; keys pressed with a Pilot."""

from __future__ import annotations

import os
import socket
import time

from pymongo import AsyncMongoClient, MongoClient
from textual.widgets import Input
from tuihelpers import click, queue_op, ready, until

from mongotx_sandbox import ThreadedSandbox
from mongotx_tui import walkthroughs
from mongotx_tui.app import MongoTxApp
from mongotx_tui.backend.drafts import new_draft_path, prune
from mongotx_tui.config import Config, drafts_dir
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.screens.confirm import ConfirmScreen
from mongotx_tui.screens.scenarios import Pick, ScenarioPickerScreen
from mongotx_tui.widgets.timeline import TimelineTable


def make_app(uri: str | None = None) -> MongoTxApp:
    return MongoTxApp(uri, config=Config())


def message(app: MongoTxApp) -> str:
    return str(app.screen.query_one("#confirm-message").render())


def timeline_text(app: MongoTxApp) -> list[str]:
    table = app.screen.query_one(TimelineTable)
    return [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def open_transactions(uri: str) -> list[dict]:
    """What the server itself lists as open transactions (idle ones included). Async: the
    embedded sandbox runs on the test's own loop."""
    async with AsyncMongoClient(uri) as client:
        stage = {"$currentOp": {"idleSessions": True, "allUsers": True}}
        ops = await (await client.admin.aggregate([stage])).to_list()
        return [op for op in ops if "transaction" in op]


async def test_removing_a_lane_with_work_asks_first_and_the_timeline_records_it() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a, b = app.wb.lanes
        await pilot.press("right_square_bracket", "t")
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 2}}")
        await pilot.press("s")
        await until(pilot, lambda: b.txn_state is TxnState.IN_PROGRESS, what="B in a txn")

        await pilot.press("minus")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        text = message(app)
        assert text == (
            "Removing lane B ends its session: its open transaction (txn 1) is aborted; "
            "1 queued operation is dropped."
        )
        await pilot.press("escape")  # cancelled: the lane and its work stay
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="closed")
        assert [lane.name for lane in app.wb.lanes] == ["A", "B"]
        assert b.in_txn and len(b.queue) == 2

        await pilot.press("minus")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await click(pilot, "#choice-remove")
        await until(pilot, lambda: app.wb.lanes == [a], what="removed")
        await until(pilot, lambda: any("remove lane B" in r for r in timeline_text(app)))
        row = next(r for r in timeline_text(app) if "remove lane B" in r)
        assert "open transaction (txn 1) aborted" in row and "1 queued operation dropped" in row
        # the server agrees: bob is free again, a write outside any transaction goes through
        assert await open_transactions(app.wb.uri) == []
        async with AsyncMongoClient(app.wb.uri) as client:
            await client.bank.accounts.update_one({"_id": "bob"}, {"$inc": {"balance": 100}})
            assert (await client.bank.accounts.find_one({"_id": "bob"}))["balance"] == 150

        await pilot.press("plus")  # an empty lane goes without a question
        await until(pilot, lambda: len(app.wb.lanes) == 2, what="added")
        await pilot.press("minus")
        await until(pilot, lambda: len(app.wb.lanes) == 1, what="removed at once")
        assert not isinstance(app.screen, ConfirmScreen)


async def test_loading_over_hand_built_work_asks_and_keeps_the_old_draft() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
        await pilot.press("o")
        await until(pilot, lambda: app.wb.lanes[0].queue[0].status is OpStatus.DONE)
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 5}}")
        await until(pilot, lambda: app.screen.draft_path is not None, what="draft written")
        first_draft = app.screen.draft_path

        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen))
        picker = app.screen
        await until(pilot, lambda: any(e == str(first_draft) for e in picker.details))
        picker.dismiss(Pick("write-conflict"))  # one click on a scenario does this
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        text = message(app)
        assert "replaces the lanes: 1 step run and 1 operation queued by hand" in text
        assert str(first_draft) in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert app.wb.play is None and len(app.wb.lanes[0].queue) == 2

        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen))
        app.screen.dismiss(Pick("write-conflict"))
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await click(pilot, "#choice-load")
        await until(pilot, lambda: app.wb.play is not None, 20, "loaded")
        await walkthroughs.next_steps(pilot, 1)
        await until(pilot, lambda: app.screen.draft_path not in (None, first_draft))
        # the hand-built draft is still there, as it was; the scenario has its own
        from mongotx_tui.scenario.loader import load_scenario

        old = load_scenario(first_draft)
        assert [s.action for s in old.steps][:1] == ["update"]
        assert len(list(drafts_dir().glob("draft-*.yaml"))) == 2

        # the Load dialog lists both, newest first, with the time each was written
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPickerScreen))
        picker = app.screen
        await until(pilot, lambda: str(first_draft) in picker.details)
        listing = picker.query_one("#picker-list")
        prompts = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        drafts_shown = [p for p in prompts if p.startswith("draft-")]
        assert len(drafts_shown) == 2 and all("saved 20" in p for p in drafts_shown)
        assert drafts_shown[1].startswith(first_draft.stem)


def test_drafts_keep_the_newest_twenty(tmp_path) -> None:
    paths = []
    for i in range(25):
        path = new_draft_path(tmp_path, "20261204-120000")
        path.write_text(f"draft {i}")
        os.utime(path, (time.time() + i, time.time() + i))
        paths.append(path)
    assert len({p.name for p in paths}) == 25  # one second, 25 names
    deleted = prune(tmp_path)
    assert sorted(deleted) == sorted(paths[:5])
    assert sorted(tmp_path.iterdir()) == sorted(paths[5:])


async def open_a_transaction_then_quit(app: MongoTxApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """Lane A updates alice in a transaction, then q: the question is on screen."""
    await ready(app, pilot)
    await pilot.press("t")
    await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
    await pilot.press("s")
    await until(pilot, lambda: app.wb.lanes[0].txn_state is TxnState.IN_PROGRESS)
    await pilot.press("q")
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")


async def test_quit_with_an_open_transaction_on_the_sandbox_asks() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_a_transaction_then_quit(app, pilot)
        assert "The sandbox stops with the app" in message(app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert app.is_running
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked again")
        await click(pilot, "#choice-quit")
        await until(pilot, lambda: not app.is_running, what="quit")


async def quit_choosing(uri: str, choice: str, limit: str = "60 s") -> None:
    """On a deployment of its own: open a transaction on alice, quit, choose."""
    app = make_app(uri)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_a_transaction_then_quit(app, pilot)
        text = message(app)
        assert f"transactionLifetimeLimitSeconds ({limit})" in text and "WriteConflict" in text
        await click(pilot, f"#choice-{choice}")
        await until(pilot, lambda: not app.is_running, what="quit")


async def test_quit_on_a_deployment_aborts_or_leaves_open_as_chosen() -> None:
    server = ThreadedSandbox()
    uri = server.start()
    try:
        with MongoClient(uri) as client:
            client.bank.accounts.insert_one({"_id": "alice", "balance": 100})
        await quit_choosing(uri, "abort")
        assert await open_transactions(uri) == []
        await quit_choosing(uri, "leave")
        left = await open_transactions(uri)
        assert len(left) == 1 and left[0]["transaction"]["parameters"]["txnNumber"] == 1
        # a deployment that refuses getParameter: the question says the limit is unknown
        with MongoClient(uri) as client:
            client.admin.command({"killAllSessions": []})  # the one left open holds alice
            client.admin.command(
                {
                    "configureFailPoint": "failCommand",
                    "mode": {"times": 1},
                    "data": {"failCommands": ["getParameter"], "errorCode": 13},
                }
            )
        await quit_choosing(uri, "abort", limit="its value, unknown here")
    finally:
        server.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def write_alice_and_queue_bob(app: MongoTxApp, pilot) -> str:  # type: ignore[no-untyped-def]
    """On the sandbox: one write done (alice's note), one queued (bob); returns its URI."""
    await ready(app, pilot)
    await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$set: {note: 'mine'}}")
    await pilot.press("o")
    await until(pilot, lambda: app.wb.lanes[0].queue[0].status is OpStatus.DONE)
    await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
    return app.wb.uri


async def test_a_switch_that_fails_leaves_the_workbench_where_it_was() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        sandbox_uri = await write_alice_and_queue_bob(app, pilot)

        await pilot.press("f2")
        await until(pilot, lambda: app.screen.query("#uri"))
        mistyped = f"mongodb://127.0.0.1:{closed_port()}/?serverSelectionTimeoutMS=300"
        app.screen.query_one("#uri", Input).value = mistyped
        await click(pilot, "#go")
        toasts = lambda: [str(t.render()) for t in app.screen.query("Toast")]  # noqa: E731
        await until(pilot, lambda: any("Still connected" in t for t in toasts()), 10)
        assert app.wb.is_sandbox and app.wb.uri == sandbox_uri and app.wb.client is not None
        assert [item.status for item in app.wb.lanes[0].queue] == [
            OpStatus.DONE,
            OpStatus.PENDING,
        ]
        async with AsyncMongoClient(sandbox_uri) as client:  # the sandbox and its documents
            assert (await client.bank.accounts.find_one({"_id": "alice"}))["note"] == "mine"
        await pilot.press("o")  # and the workbench still works on it
        await until(pilot, lambda: app.wb.lanes[0].queue[1].status is OpStatus.DONE)


async def switch_to(app: MongoTxApp, pilot, uri: str) -> None:  # type: ignore[no-untyped-def]
    """F2, then a URI (or the Sandbox button for "")."""
    before = app.wb.timeline.after(0)[-1].seq
    await pilot.press("f2")
    await until(pilot, lambda: app.screen.query("#uri"))
    if uri:
        app.screen.query_one("#uri", Input).value = uri
        await click(pilot, "#go")
    else:
        await click(pilot, "#sandbox")
    await until(
        pilot,
        lambda: any(e.what == "connect" for e in app.wb.timeline.after(before)),
        15,
        "connected",
    )


async def test_the_sandbox_keeps_its_documents_while_the_workbench_is_elsewhere() -> None:
    server = ThreadedSandbox()
    other = server.start()
    app = make_app()
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            sandbox_uri = await write_alice_and_queue_bob(app, pilot)

            await switch_to(app, pilot, other)
            assert not app.wb.is_sandbox and app.wb.uri == other
            await switch_to(app, pilot, "")
            assert app.wb.is_sandbox and app.wb.uri == sandbox_uri  # the same sandbox
            async with AsyncMongoClient(sandbox_uri) as client:
                assert (await client.bank.accounts.find_one({"_id": "alice"}))["note"] == "mine"
            assert [item.status for item in app.wb.lanes[0].queue] == [
                OpStatus.DONE,
                OpStatus.PENDING,
            ]
    finally:
        server.stop()


async def test_quit_asks_only_for_transactions_the_server_holds() -> None:
    """B's transaction was aborted by the server (WriteConflict), A's by x: nothing is open
    on the server any more, so q quits at once."""
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await walkthroughs.conflict(pilot)
        a, b = app.wb.lanes
        assert b.txn_state is TxnState.SERVER_ABORTED and a.txn_state is TxnState.IN_PROGRESS
        await pilot.press("left_square_bracket", "x")
        await until(pilot, lambda: a.txn_state is TxnState.ABORTED, what="A aborted")
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, what="quit without a question")

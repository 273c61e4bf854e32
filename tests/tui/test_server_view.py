"""The server view lists the deployment's open transactions from $currentOp, the lanes'
(named as the lane) and any other client's, and kills a session with killSessions: the
real app, the embedded sandbox over a socket, real pymongo clients, keys pressed with a
Pilot (issue 11, item 3)."""

from __future__ import annotations

import asyncio
import time

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure
from tuihelpers import click, queue_op, ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.model.server_view import ServerTxn
from mongotx_tui.screens.confirm import ConfirmScreen
from mongotx_tui.screens.server_view import ServerViewScreen


def make_app() -> MongoTxApp:
    return MongoTxApp(config=Config())


async def lane_a_in_txn(app, pilot) -> None:  # type: ignore[no-untyped-def]
    """Lane A's transaction updates alice (open, idle)."""
    a = app.wb.lanes[0]
    await pilot.press("t")
    await queue_op(app, pilot, filter="{_id: 'alice'}", update="{$inc: {balance: -1}}")
    await pilot.press("s")
    await until(pilot, lambda: a.txn_state is TxnState.IN_PROGRESS and a.view is not None)


async def open_view(pilot) -> ServerViewScreen:  # type: ignore[no-untyped-def]
    await pilot.press("S")
    await until(pilot, lambda: isinstance(pilot.app.screen, ServerViewScreen), what="view")
    return pilot.app.screen


def row_of(screen: ServerViewScreen, owner: str) -> ServerTxn:
    (txn,) = [t for t in screen.view.txns if t.owner == owner]
    return txn


async def kill(pilot, screen: ServerViewScreen, txn: ServerTxn) -> None:  # type: ignore[no-untyped-def]
    """Highlight the transaction's row, k, confirm."""
    screen.query_one("#sv-txns").move_cursor(row=screen.view.txns.index(txn))
    await pilot.pause()
    await pilot.press("k")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="confirm")
    await click(pilot, "#choice-kill")


async def index_build_waits(app, pilot) -> None:  # type: ignore[no-untyped-def]
    """Until the server lists the createIndexes on bank.accounts waiting for its lock."""
    match = {"command.createIndexes": "accounts", "waitingForLock": True}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cursor = await app.wb.client.admin.aggregate([{"$currentOp": {}}, {"$match": match}])
        if await cursor.to_list(None):
            return
        await pilot.pause(0.01)
    raise AssertionError("the createIndexes never waited")


@pytest.fixture
async def shop(request):  # type: ignore[no-untyped-def]
    """Another application's client (not a lane): made on the test's loop by the test."""
    clients: list[AsyncMongoClient] = []

    def make(uri: str) -> AsyncMongoClient:
        c: AsyncMongoClient = AsyncMongoClient(uri, appname="shop-app")
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.close()


async def test_lists_a_lane_and_another_client_and_kills_the_other(shop) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await lane_a_in_txn(app, pilot)
        other = shop(app.wb.uri)
        session = other.start_session()
        await session.start_transaction()
        await other.bank.accounts.insert_one({"_id": "zoe", "balance": 7}, session=session)

        screen = await open_view(pilot)
        await until(pilot, lambda: len(screen.view.txns) == 2, 20, "two open transactions")
        mine, theirs = row_of(screen, "lane A"), row_of(screen, "shop-app")
        assert (mine.lane, mine.app, mine.txn_number) == ("A", "mongotx-tui", 1)
        assert mine.lsid == app.wb.lanes[0].lsid
        assert mine.namespaces == ("bank.accounts",)  # the workbench knows what A used
        assert (theirs.lane, theirs.txn_number) == ("", 1)
        assert theirs.lsid == session.session_id["id"].hex()
        assert theirs.open_s is not None and theirs.left_s is not None
        assert 0 < theirs.left_s <= app.wb.lifetime_limit_s
        table = screen.query_one("#sv-txns")
        shown = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert shown == {"lane A", "shop-app"}

        await kill(pilot, screen, theirs)
        await until(pilot, lambda: len(screen.view.txns) == 1, 20, "the killed one gone")
        assert screen.view.txns[0].lane == "A"  # the lane's is untouched
        with pytest.raises(OperationFailure) as failed:
            await session.commit_transaction()
        assert failed.value.code == 251  # NoSuchTransaction: the server aborted it
        (row,) = [e for e in app.wb.timeline if e.what.startswith("killSessions")]
        assert row.ok and row.outcome == "ok: the server aborted shop-app's txn 1"
        await session.end_session()


async def test_a_ddl_waiting_behind_a_lane_and_killing_the_lane(shop) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        a = app.wb.lanes[0]
        await lane_a_in_txn(app, pilot)
        other = shop(app.wb.uri)
        build = asyncio.ensure_future(other.bank.accounts.create_index("balance"))

        screen = await open_view(pilot)
        await until(pilot, lambda: screen.view.waiting, 20, "the waiting createIndexes")
        (waiting,) = screen.view.waiting
        assert (waiting.command, waiting.ns, waiting.who) == (
            "createIndexes",
            "bank.accounts",
            "shop-app",
        )
        assert waiting.lock == "a Collection lock (exclusive)"
        assert waiting.behind == ("lane A txn 1",) and waiting.maybe == ()
        (mine,) = screen.view.txns
        assert mine.waiting == (waiting,)
        text = str(screen.query_one("#sv-waiting").render())
        assert "createIndexes bank.accounts (shop-app) waits" in text
        assert "behind lane A txn 1" in text

        await kill(pilot, screen, mine)
        await until(pilot, lambda: not screen.view.txns, 20, "lane A's transaction gone")
        assert await asyncio.wait_for(build, 20) == "balance_1"  # the lock is free
        assert a.lifetime_note == "session killed (server view): the server aborted it"
        await pilot.press("escape")
        # A's next statement: the server no longer has the transaction.
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: a.queue[1].status is OpStatus.FAILED, 20, "A's 251")
        assert a.queue[1].error is not None and a.queue[1].error.code == 251
        assert a.txn_state is TxnState.SERVER_ABORTED


async def _refuse_aggregate(app, times: int) -> None:  # type: ignore[no-untyped-def]
    """The server answers the next `times` $currentOp reads with 13 Unauthorized, as mongod
    does when a user without the inprog privilege asks for allUsers (the sandbox has no
    users: its failCommand fail point gives the same reply). Only the collectionless
    aggregates on admin: the panel's count or the change stream must not use them up."""
    await app.wb.client.admin.command(
        {
            "configureFailPoint": "failCommand",
            "mode": {"times": times},
            "data": {
                "failCommands": ["aggregate"],
                "errorCode": 13,
                "namespace": "admin.$cmd.aggregate",
            },
        }
    )


async def test_without_inprog_it_lists_the_users_own_and_says_why() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await lane_a_in_txn(app, pilot)
        await _refuse_aggregate(app, 1)  # allUsers: true refused, the user's own allowed
        screen = await open_view(pilot)
        await until(pilot, lambda: screen.reads >= 1, 20, "the first read")
        assert [t.owner for t in screen.view.txns] == ["lane A"]
        assert screen.view.note == (
            "Only this user's sessions are listed: the server refused allUsers: true "
            "(13 Unauthorized), which needs the inprog privilege (cluster resource)."
        )
        assert screen.view.note in str(screen.query_one("#sv-status").render())


async def test_where_current_op_is_refused_it_names_the_privilege() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await _refuse_aggregate(app, 2)  # with and without allUsers
        screen = await open_view(pilot)
        await until(pilot, lambda: screen.reads >= 1, 20, "the first read")
        assert screen.view.txns == []
        assert screen.view.error == (
            "$currentOp is not permitted (13 Unauthorized): it needs the inprog privilege "
            "(cluster resource)."
        )
        assert screen.view.error in str(screen.query_one("#sv-status").render())


async def test_killing_a_lane_whose_statement_waits_fails_it_with_11601(shop) -> None:  # type: ignore[no-untyped-def]
    """Lane B's read in its transaction waits behind a pending createIndexes (itself behind
    lane A's transaction): killing B's session interrupts the read, and the lane says so."""
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await lane_a_in_txn(app, pilot)
        b = app.wb.lanes[1]
        # A transaction's first statement on a collection with a DDL pending waits
        # maxTransactionLockRequestTimeoutMillis (5 ms by default), then fails with 24.
        await app.wb.client.admin.command(
            "setParameter", 1, maxTransactionLockRequestTimeoutMillis=60_000
        )
        other = shop(app.wb.uri)
        build = asyncio.ensure_future(other.bank.accounts.create_index("balance"))
        await index_build_waits(app, pilot)
        await pilot.press("right_square_bracket", "t")
        await queue_op(app, pilot, filter="{_id: 'bob'}", update="{$inc: {balance: 1}}")
        await pilot.press("s")
        await until(pilot, lambda: b.queue[0].waiting, 20, "B's update waits")

        screen = await open_view(pilot)
        await until(pilot, lambda: any(t.lane == "B" for t in screen.view.txns), 20, "B's row")
        mine = row_of(screen, "lane B")
        assert mine.active and mine.running == "update bank.accounts"
        await kill(pilot, screen, mine)
        await until(pilot, lambda: b.queue[0].status is OpStatus.FAILED, 20, "B's 11601")
        assert b.queue[0].error is not None and b.queue[0].error.code == 11601
        (row,) = [e for e in app.wb.timeline if e.what.startswith("killSessions")]
        assert row.lane == "B" and row.outcome == (
            "ok: the server aborted lane B's txn 1 and interrupted its update bank.accounts"
        )
        await pilot.press("escape")
        await pilot.press("left_square_bracket", "x")  # A aborts: the index build goes on
        assert await asyncio.wait_for(build, 20) == "balance_1"


def test_time_left_is_measured_on_the_servers_clock() -> None:
    """expiryTime - startWallClockTime - timeOpenMicros: mongod writes both times with its
    local offset (dateToISOStringLocal), which the difference does not depend on."""
    from mongotx_tui.model.server_view import time_left

    sub = {
        "startWallClockTime": "2026-12-04T14:00:00.000-05:00",
        "expiryTime": "2026-12-04T14:01:00.000-05:00",
        "timeOpenMicros": 12_500_000,
    }
    assert time_left(sub) == 47.5
    assert time_left({"expiryTime": "2026-12-04T19:01:00.000+00:00"}) is None


def test_a_transaction_keeps_the_namespaces_seen_while_it_ran() -> None:
    """An idle transaction's entry names no namespace: the one its running statement showed
    in an earlier read stays with it until it ends."""
    from mongotx_tui.model.server_view import build_view

    lsid = {"id": bytes(range(16))}
    txn = {"parameters": {"txnNumber": 2, "autocommit": False}, "timeOpenMicros": 1}
    running = {
        "type": "op",
        "active": True,
        "lsid": lsid,
        "ns": "shop.orders",
        "command": {"insert": "orders"},
        "appName": "shop-app",
        "transaction": txn,
    }
    idle = {"type": "idleSession", "active": False, "lsid": lsid, "transaction": txn}
    seen: dict[tuple[str, int], set[str]] = {}
    first = build_view([running], {}, seen=seen)
    assert first.txns[0].running == "insert shop.orders" and first.txns[0].active
    later = build_view([idle], {}, seen=seen)
    assert later.txns[0].namespaces == ("shop.orders",) and not later.txns[0].active
    build_view([], {}, seen=seen)  # it ended
    assert seen == {}

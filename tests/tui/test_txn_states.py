"""The lane's transaction state machine, one test per transition, each driven by what the
real sandbox answers to real pymongo (fail points via configureFailPoint failCommand).

The transitions (model.lanes.TxnState):
    NONE → STARTING → IN_PROGRESS; STARTING → COMMITTED (empty) | ABORTED (nothing sent)
    IN_PROGRESS → COMMITTED | ABORTED | COMMIT_UNKNOWN | SERVER_ABORTED | EXPIRED
    IN_PROGRESS → IN_PROGRESS (an error the server raised before touching the transaction)
    SERVER_ABORTED, EXPIRED → ABORTED (commit answered 251, or abort)
    COMMIT_UNKNOWN → COMMITTED (the retry settles it); COMMITTED → COMMITTED (re-sent)
    any open state → ABORTED (end session)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mongotx_tui.backend.workbench import Workbench
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.model.ops import OpSpec


def update(who: str = "alice", by: int = -10) -> OpSpec:
    return OpSpec.new("update", filter=f"{{_id: '{who}'}}", update=f"{{$inc: {{balance: {by}}}}}")


async def fail_point(wb: Workbench, data: dict[str, Any], mode: Any = None) -> None:
    await wb.client.admin.command(
        {"configureFailPoint": "failCommand", "mode": mode or {"times": 1}, "data": data}
    )


async def until(condition, what: str) -> None:
    """Wait for a state the server's reaper or a task brings (no timed assert: the
    bound only stops a hung test)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
async def wb():
    bench = Workbench()
    await bench.connect()
    try:
        yield bench
    finally:
        await bench.client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
        await bench.client.admin.command({"setParameter": 1, "transactionLifetimeLimitSeconds": 60})
        await bench.close()


async def run(wb: Workbench, lane_id: int, spec: OpSpec):
    item = wb.enqueue(lane_id, spec)
    await wb.step(lane_id)
    return item


async def test_none_to_starting_to_in_progress(wb):
    a = wb.lanes[0]
    assert a.txn_state is TxnState.NONE
    await wb.start_transaction(a.id)
    assert a.txn_state is TxnState.STARTING and a.txn_opened_at is None
    await run(wb, a.id, update())
    assert a.txn_state is TxnState.IN_PROGRESS and a.txn_opened_at is not None


async def test_starting_to_committed_empty_and_to_aborted(wb):
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    outcome, err = await wb.commit(a.id)
    assert err is None and a.txn_state is TxnState.COMMITTED and "nothing was sent" in outcome
    await wb.start_transaction(a.id)
    outcome, err = await wb.abort(a.id)
    assert err is None and a.txn_state is TxnState.ABORTED and "nothing was sent" in outcome


async def test_in_progress_to_committed_and_to_aborted(wb):
    a, b = wb.lanes
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    assert await wb.commit(a.id) == ("committed", None)
    assert a.txn_state is TxnState.COMMITTED
    await wb.start_transaction(b.id)
    await run(wb, b.id, update("bob"))
    outcome, err = await wb.abort(b.id)
    assert (outcome, err) == ("aborted", None) and b.txn_state is TxnState.ABORTED
    assert b.state_note == "by you"


async def test_write_conflict_is_aborted_by_server_at_once(wb):
    a, b = wb.lanes
    await wb.start_transaction(a.id)
    await wb.start_transaction(b.id)
    await run(wb, a.id, update())
    item = await run(wb, b.id, update(by=-20))
    assert item.error is not None and item.error.code == 112
    assert b.txn_state is TxnState.SERVER_ABORTED and b.server_aborted == item.error
    assert item.error.txn_aborted is True
    assert not b.txn_live and b.in_txn  # the driver still holds it: abort (x) comes next
    assert list(wb.timeline)[-1].outcome.endswith(f"the server aborted txn {b.txn_number}")


async def test_a_write_error_in_a_transaction_aborts_it(wb):
    """DuplicateKey is reported in writeErrors with ok: 1, and aborts the transaction."""
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    item = await run(wb, a.id, OpSpec.new("insert", document="{_id: 'alice'}"))
    assert item.error is not None and item.error.code == 11000
    assert a.txn_state is TxnState.SERVER_ABORTED
    assert item.error.advice.startswith("The server aborted the transaction")


async def test_an_error_before_checkout_keeps_the_transaction_open(wb):
    """263: `count` is refused before the session is checked out; the txn commits."""
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    item = await run(wb, a.id, OpSpec.new("command", command="{count: 'accounts'}"))
    assert item.error is not None and item.error.code == 263
    assert a.txn_state is TxnState.IN_PROGRESS and item.error.txn_aborted is False
    assert "still open" in item.error.advice
    assert await wb.commit(a.id) == ("committed", None)


async def test_a_fail_point_error_keeps_the_transaction_open_as_the_server_says(wb):
    """failCommand fires before checkout: whatever its code, $currentOp still lists the
    transaction, and the lane believes the server, not the code."""
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update("bob"))
    await fail_point(wb, {"failCommands": ["update"], "errorCode": 11000})
    item = await run(wb, a.id, update())
    assert item.error is not None and item.error.code == 11000
    assert a.txn_state is TxnState.IN_PROGRESS and item.error.txn_aborted is False
    assert list(wb.timeline)[-1].outcome.endswith("stays open")
    assert await wb.commit(a.id) == ("committed", None)


async def test_commit_after_the_server_aborted_it_is_aborted_with_the_reason(wb):
    a, b = wb.lanes
    await wb.start_transaction(a.id)
    await wb.start_transaction(b.id)
    await run(wb, a.id, update())
    await run(wb, b.id, update())
    outcome, err = await wb.commit(b.id)
    assert err is not None and err.code == 251 and outcome.startswith("251 NoSuchTransaction")
    assert b.txn_state is TxnState.ABORTED  # never "committed"
    assert "251 NoSuchTransaction" in b.state_note and "112 WriteConflict" in b.state_note


async def test_abort_after_the_server_aborted_it(wb):
    a, b = wb.lanes
    await wb.start_transaction(a.id)
    await wb.start_transaction(b.id)
    await run(wb, a.id, update())
    await run(wb, b.id, update())
    outcome, err = await wb.abort(b.id)
    assert err is None and b.txn_state is TxnState.ABORTED
    assert outcome == "aborted (the server had already aborted it)"


async def test_a_commit_that_fails_with_a_server_error_is_aborted(wb):
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    await fail_point(
        wb,
        {
            "failCommands": ["commitTransaction"],
            "errorCode": 112,
            "errorLabels": ["TransientTransactionError"],
        },
    )
    _outcome, err = await wb.commit(a.id)
    assert err is not None and err.code == 112
    assert a.txn_state is TxnState.ABORTED and "112 WriteConflict" in a.state_note


async def test_unknown_commit_result_then_the_retry_settles_it(wb):
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    wce = {"code": 64, "errmsg": "waiting for replication timed out", "errInfo": {"wtimeout": True}}
    await fail_point(wb, {"failCommands": ["commitTransaction"], "writeConcernError": wce})
    outcome, err = await wb.commit(a.id)
    assert err is not None and "UnknownTransactionCommitResult" in err.labels
    assert a.txn_state is TxnState.COMMIT_UNKNOWN and err.advice.startswith("Retry the commit")
    outcome, err = await wb.commit(a.id)
    assert err is None and a.txn_state is TxnState.COMMITTED
    assert outcome == "committed (the retry settled the unknown result)"


async def test_unknown_commit_result_after_a_lost_connection(wb):
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    # twice: pymongo retries a commit once by itself
    await fail_point(
        wb, {"failCommands": ["commitTransaction"], "closeConnection": True}, {"times": 2}
    )
    _, err = await wb.commit(a.id)
    assert err is not None and "UnknownTransactionCommitResult" in err.labels
    assert (
        err.code is None and err.code_name == "connection lost" and "full error" not in err.message
    )
    assert a.txn_state is TxnState.COMMIT_UNKNOWN
    _outcome, err = await wb.commit(a.id)
    assert err is None and a.txn_state is TxnState.COMMITTED


async def test_a_commit_resent_on_a_committed_transaction_is_explained(wb):
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    await wb.commit(a.id)
    outcome, err = await wb.commit(a.id)
    assert err is None and a.txn_state is TxnState.COMMITTED
    assert outcome == (
        "already committed: the driver re-sends commitTransaction, which MongoDB answers ok"
    )
    assert list(wb.timeline)[-1].outcome == outcome


async def test_a_write_concern_error_on_commit_is_committed_with_the_reason(wb):
    """w: 3 on a one-member set: the commit is applied, the write concern is not met."""
    from mongotx_tui.model.lanes import TxnOptions

    a = wb.lanes[0]
    await wb.start_transaction(a.id, TxnOptions(write_concern="3"))
    await run(wb, a.id, update())
    _outcome, err = await wb.commit(a.id)
    assert err is not None and err.code == 100 and err.write_concern
    assert a.txn_state is TxnState.COMMITTED and "write concern not satisfied" in a.state_note
    doc = await wb.client.bank.accounts.find_one({"_id": "alice"})
    assert doc["balance"] == 90


async def test_lifetime_expiry_is_found_out_from_the_server(wb):
    await wb.client.admin.command({"setParameter": 1, "transactionLifetimeLimitSeconds": 1})
    assert await wb.read_lifetime_limit() == 1.0
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    await until(lambda: a.txn_state is TxnState.EXPIRED, "the server's reaper")
    row = list(wb.timeline)[-1]
    assert row.what == f"txn {a.txn_number} expired"
    assert row.outcome.startswith("expired — aborted by the server")
    # the write it held is released: a plain write goes through at once
    await wb.client.bank.accounts.update_one({"_id": "alice"}, {"$set": {"x": 1}})
    _outcome, err = await wb.commit(a.id)
    assert err is not None and err.code == 251 and a.txn_state is TxnState.ABORTED
    assert "lifetime limit" in a.state_note


async def test_past_the_limit_where_the_server_cannot_be_asked(wb):
    await wb.client.admin.command({"setParameter": 1, "transactionLifetimeLimitSeconds": 1})
    await wb.read_lifetime_limit()
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    # $currentOp refused, as for a user without the inprog privilege
    await fail_point(
        wb, {"failCommands": ["aggregate"], "errorCode": 13, "appName": "mongotx-tui"}, "alwaysOn"
    )
    await until(lambda: a.lifetime_note, "the deadline")
    assert a.lifetime_note == "past the lifetime limit: the server will abort it"
    assert a.txn_state is TxnState.IN_PROGRESS


async def test_limit_unknown_where_getParameter_is_refused(wb):
    await fail_point(wb, {"failCommands": ["getParameter"], "errorCode": 13})
    assert await wb.read_lifetime_limit() is None
    assert wb.lifetime_limit_s is None
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    assert a.time_left(wb.clock(), wb.lifetime_limit_s) is None
    from mongotx_tui.widgets.render import lane_header

    assert "lifetime limit unknown" in lane_header(a, wb.clock(), wb.lifetime_limit_s).plain


async def test_end_session_aborts_an_open_transaction(wb):
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    await wb.end_session(a.id)
    assert a.txn_state is TxnState.ABORTED and "session was ended" in a.state_note


async def test_the_view_compares_each_document_with_its_own_committed_version(wb):
    """252 documents, the committed panel on page 2: a lane that only read shows nothing
    changed (it used to call the first page's documents inserted)."""
    coll = wb.client.bank.accounts
    await coll.insert_many([{"_id": f"u{i:04d}", "n": i} for i in range(250)])
    await wb.refresh_committed(2, count_now=True)
    assert wb.page.number == 2 and wb.page.total == 252
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, OpSpec.new("find", filter="{}"))
    await run(wb, a.id, OpSpec.new("find", filter="{_id: 'alice'}"))
    from mongotx_tui.model.lanes import diff_marks

    assert a.view is not None and len(a.view) > 100
    marks = diff_marks(wb.page.docs, a.view, a.view_base)
    assert {m for m, _ in marks} == {" "}
    # a change off the shown page is marked as a change, not an insert
    await run(wb, a.id, update("bob", 1))
    marks = diff_marks(wb.page.docs, a.view, a.view_base)
    assert [(m, d["_id"]) for m, d in marks if m != " "] == [("~", "bob")]


async def test_a_blocked_write_names_the_lane_whose_transaction_wrote_it(wb):
    a, b = wb.lanes
    await wb.refresh_committed(0)
    await wb.start_transaction(a.id)
    await run(wb, a.id, update("bob", 5))
    assert a.view is not None
    item = wb.enqueue(b.id, update("bob", 1))
    task = asyncio.ensure_future(wb.step(b.id, outside=True))
    await until(lambda: item.waiting and item.waiting_for, "the write to wait")
    assert item.waiting_for == f"lane A's open transaction (txn {a.txn_number}) wrote _id 'bob'"
    await wb.commit(a.id)
    await task
    assert item.status is OpStatus.DONE


async def test_a_blocked_write_the_workbench_cannot_explain_says_what_the_server_reports(wb):
    from pymongo import AsyncMongoClient

    b = wb.lanes[1]
    other = AsyncMongoClient(wb.uri)
    try:
        async with other.start_session() as s:
            await s.start_transaction()
            await other.bank.accounts.update_one({"_id": "bob"}, {"$inc": {"b": 1}}, session=s)
            item = wb.enqueue(b.id, update("bob", 1))
            task = asyncio.ensure_future(wb.step(b.id, outside=True))
            await until(lambda: item.waiting_for, "the write to wait")
            lsid = s.session_id["id"].hex()[:8]
            txn = s._transaction_id
            assert (
                item.waiting_for == f"the server reports open transactions: lsid {lsid}… txn {txn}"
            )
            assert "?" not in item.waiting_for
            await s.abort_transaction()
            await task
    finally:
        await other.close()


async def test_a_new_lane_that_gets_a_removed_lanes_session_says_so(wb):
    _a, b = wb.lanes
    await wb.start_transaction(b.id)
    await run(wb, b.id, update())
    await wb.commit(b.id)
    old = b.lsid
    await wb.remove_lane(b.id)  # its session goes back to pymongo's pool
    c = wb.add_lane()
    await wb.start_transaction(c.id)
    assert c.lsid == old
    assert c.name == "B" and c.id != b.id
    used = c.txn_number - 1
    txns = "txn 1" if used == 1 else f"txns 1-{used}"
    assert c.lsid_note == f"was lane B's, {txns} used"


async def test_driver_errors_are_plain_sentences_never_a_repr():
    """No reply at all: a plain sentence (the cause, not the topology's repr)."""
    import socket

    from pymongo import AsyncMongoClient

    from mongotx_tui.backend.operations import error_info

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = AsyncMongoClient(f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=200")
    try:
        await client.admin.command("ping")
    except Exception as exc:
        info = error_info(exc)
    finally:
        await client.close()
    assert info.code is None and info.headline == "no server available" and info.connection
    assert info.message.startswith("No server answered within the server selection timeout")
    for repr_bit in ("Topology", "ServerDescription", "configured timeouts", "<"):
        assert repr_bit not in info.message
    assert info.advice.startswith("No reply from the server")


async def test_unknown_commit_result_settled_as_aborted_when_the_server_lost_it(wb):
    """The commit never reached the transaction (the connection closed first), then the
    session is killed: the retried commit is answered NoSuchTransaction → aborted."""
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    await fail_point(
        wb, {"failCommands": ["commitTransaction"], "closeConnection": True}, {"times": 2}
    )
    _, err = await wb.commit(a.id)
    assert a.txn_state is TxnState.COMMIT_UNKNOWN
    lsid = wb.runner(a.id).session.session_id
    await wb.client.admin.command({"killSessions": [lsid]})
    outcome, err = await wb.commit(a.id)
    assert err is not None and err.code == 251 and a.txn_state is TxnState.ABORTED
    assert outcome.startswith("251 NoSuchTransaction")
    doc = await wb.client.bank.accounts.find_one({"_id": "alice"})
    assert doc["balance"] == 100  # nothing was committed


async def test_unknown_commit_result_stays_unknown_while_retries_get_no_answer(wb):
    a = wb.lanes[0]
    await wb.start_transaction(a.id)
    await run(wb, a.id, update())
    await fail_point(
        wb, {"failCommands": ["commitTransaction"], "closeConnection": True}, {"times": 4}
    )
    await wb.commit(a.id)
    assert a.txn_state is TxnState.COMMIT_UNKNOWN
    _, err = await wb.commit(a.id)
    assert err is not None and a.txn_state is TxnState.COMMIT_UNKNOWN
    assert err.advice.startswith("Retry the commit")


def test_which_statement_errors_abort_and_the_advice_that_follows():
    from mongotx_tui.model.error_info import ErrorInfo, statement_aborts

    # refused before the session is checked out: the transaction stays
    assert not any(statement_aborts(code) for code in (72, 263, 50768, 20, None))
    # any other server error aborts it (write errors included)
    assert all(statement_aborts(code) for code in (112, 11000, 24, 50, 121, 251))
    kept = ErrorInfo(263, "OperationNotSupportedInTransaction", "no count", txn_aborted=False)
    assert kept.advice.startswith("The server refused this statement before")
    gone = ErrorInfo(11000, "DuplicateKey", "dup", txn_aborted=True)
    assert gone.advice.startswith("The server aborted the transaction")
    plain = ErrorInfo(11000, "DuplicateKey", "dup")
    assert plain.advice.startswith("Do not retry")
    shutdown = ErrorInfo(91, "ShutdownInProgress", "shutting down", ("RetryableWriteError",))
    assert shutdown.advice.startswith("The server is stepping down or shutting down")

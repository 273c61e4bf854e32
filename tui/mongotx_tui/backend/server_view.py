"""The server view's IO: read the deployment's open transactions with `$currentOp`, and
kill a session with `killSessions`. No textual; the rows are model.server_view's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.events import Changed
from ..model.lanes import TxnState
from ..model.server_view import ServerTxn, ServerView, build_view
from ..model.timeline import EventKind
from .operations import error_info

if TYPE_CHECKING:
    from .workbench import Workbench

UNAUTHORIZED = 13
# What the user lacks when the server refuses: the manual's $currentOp page ("access
# control": allUsers: true needs the inprog privilege on the cluster; on a sharded cluster
# $currentOp needs it in any case) and killSessions' (killAnySession for another user's).
NO_INPROG = "the inprog privilege (cluster resource)"
OWN_ONLY = (
    "Only this user's sessions are listed: the server refused allUsers: true "
    f"(13 Unauthorized), which needs {NO_INPROG}."
)


KEPT_WHY = (
    "killSessions ends this user's own sessions only; another user's needs the "
    "killAnySession privilege (cluster resource)"
)


async def _still_open(wb: Workbench, txn: ServerTxn) -> bool:
    """Whether $currentOp still lists the transaction after an ok killSessions (False when
    it cannot tell: the reply is then taken at its word)."""
    try:
        docs = await _current_op(wb, stage_options(wb))
    except Exception:
        return False
    rows = build_view(docs, {}, None, {}).txns
    return any(t.lsid == txn.lsid and t.txn_number == txn.txn_number for t in rows)


def stage_options(wb: Workbench, all_users: bool = True) -> dict[str, Any]:
    """`$currentOp`'s options: idle transactions too; every user's where permitted; on a
    mongos, its own sessions (`localOps`: the router's view of each transaction, once,
    rather than one entry per shard) [manual: reference/operator/aggregation/currentOp]."""
    options: dict[str, Any] = {"idleSessions": True}
    if all_users:
        options["allUsers"] = True
    if wb.deployment is not None and wb.deployment.topology == "sharded cluster":
        options["localOps"] = True
    return options


async def _current_op(wb: Workbench, options: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = await wb.client.admin.aggregate([{"$currentOp": options}])
    return await cursor.to_list(None)


def lane_sessions(wb: Workbench) -> tuple[dict[str, str], dict[str, set[str]]]:
    """The lanes' open sessions (lsid hex → lane name) and the namespaces each lane's
    transaction used (its statements since it opened: the workbench runs them in wb.db)."""
    names: dict[str, str] = {}
    used: dict[str, set[str]] = {}
    for lane in wb.lanes:
        runner = wb.runners.get(lane.id)
        if not lane.lsid or runner is None or runner.session is None:
            continue  # an ended lane's lsid is back in pymongo's pool: not the lane's now
        names[lane.lsid] = lane.name
        opened = lane.txn_opened_at
        if lane.txn_live and opened is not None:
            ran = [
                (item.started_at, item.spec.collection)
                for item in lane.queue
                if item.spec is not None and item.in_txn and item.started_at is not None
            ]
            # The first statement began just before it opened the transaction.
            first = max((at for at, _ in ran if at <= opened), default=opened)
            used[lane.lsid] = {f"{wb.db}.{name}" for at, name in ran if at >= first}
    return names, used


async def read_server_view(wb: Workbench, seen: dict[tuple[str, int], set[str]]) -> ServerView:
    """One read: every open transaction and every operation waiting for a lock. Refused
    allUsers (13): this user's own, saying so; refused $currentOp: why, in one sentence.
    `seen` keeps the namespaces seen per transaction across reads (build_view)."""
    if wb.client is None:
        return ServerView(error="Not connected yet")
    note = ""
    try:
        docs = await _current_op(wb, stage_options(wb))
    except Exception as exc:
        info = error_info(exc, wb.scrub)
        if info.code != UNAUTHORIZED:
            return ServerView(error=f"$currentOp failed: {info.one_line()}")
        try:
            docs = await _current_op(wb, stage_options(wb, all_users=False))
            note = OWN_ONLY
        except Exception as again:
            info = error_info(again, wb.scrub)
            if info.code == UNAUTHORIZED:
                return ServerView(
                    error=f"$currentOp is not permitted (13 Unauthorized): it needs {NO_INPROG}."
                )
            return ServerView(error=f"$currentOp failed: {info.one_line()}")
    lanes, used = lane_sessions(wb)
    view = build_view(docs, lanes, used, seen)
    view.note = note
    return view


async def kill_session(wb: Workbench, txn: ServerTxn) -> tuple[bool, str]:
    """`killSessions` with the transaction's lsid [manual: killSessions; srv:db/session/
    kill_sessions_local.cpp]: the server interrupts its running statement (11601) and
    aborts its transaction; the owner's next statement gets 251 NoSuchTransaction. The
    timeline shows the reply; a lane's own replies then move the lane."""
    lane = next((ln for ln in wb.lanes if txn.lane and ln.name == txn.lane), None)
    what = f"killSessions lsid {txn.short_lsid} (server view)"
    try:
        await wb.client.admin.command("killSessions", [txn.lsid_doc])
    except Exception as exc:
        info = error_info(exc, wb.scrub)
        outcome = info.one_line()
        if info.code == UNAUTHORIZED:
            outcome += " (killing another user's session needs the killAnySession privilege)"
        wb.timeline.add(wb.clock(), lane.name if lane else "", EventKind.INFO, what, outcome, False)
        wb.notify(Changed.TIMELINE, None)
        return False, outcome
    if await _still_open(wb, txn):
        # killSessions names sessions of the caller: another user's is left alone, ok
        # notwithstanding [manual: killSessions, "Session Identification"].
        kept = f"ok, but the server kept {txn.owner}'s txn {txn.txn_number} open: {KEPT_WHY}"
        wb.timeline.add(wb.clock(), lane.name if lane else "", EventKind.INFO, what, kept, False)
        wb.notify(Changed.TIMELINE, None)
        return False, kept
    aborted = f"ok: the server aborted {txn.owner}'s txn {txn.txn_number}"
    if txn.active:
        aborted += f" and interrupted its {txn.running or 'statement'}"
    wb.timeline.add(wb.clock(), lane.name if lane else "", EventKind.INFO, what, aborted, True)
    wb.notify(Changed.TIMELINE, None)
    if lane is not None and lane.txn_state is TxnState.IN_PROGRESS:
        # Its state moves on its own next reply (251); until then the header says why.
        lane.lifetime_note = "session killed (server view): the server aborted it"
        wb.notify(Changed.LANE, lane.id)
    return True, aborted

"""--auth: sessions belong to their user. $currentOp without allUsers lists the caller's own;
killSessions and endSessions touch another user's session only with killAnySession
(killSessions) or never (endSessions), as the manual describes (issue 13 item 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from .auth_helpers import ROOT_PASSWORD, ROOT_USER, logged_in, start_auth_sandbox


@pytest.fixture(scope="module")
def auth_uri() -> Iterator[str]:
    server = start_auth_sandbox()
    with logged_in(server.uri, ROOT_USER, ROOT_PASSWORD) as root:
        root.bank.command("createUser", "teller", pwd="teller-pw", roles=["readWrite"])
        root.bank.command("createUser", "clerk", pwd="clerk-pw", roles=["readWrite"])
        root.bank.command(
            "createUser",
            "monitor",
            pwd="monitor-pw",
            roles=[{"role": "clusterMonitor", "db": "admin"}],
        )
        root.bank.accounts.insert_many([{"_id": "ann", "balance": 10}, {"_id": "bob"}])
    yield server.uri
    server.stop()


def _idle_lsids(client: MongoClient, all_users: bool) -> list[bytes]:
    docs = client.admin.aggregate([{"$currentOp": {"allUsers": all_users, "idleSessions": True}}])
    return [bytes(d["lsid"]["id"]) for d in docs if d.get("type") == "idleSession"]


def _open_txn(client: MongoClient, doc_id: str):  # type: ignore[no-untyped-def]
    session = client.start_session()
    session.start_transaction()
    client.bank.accounts.update_one({"_id": doc_id}, {"$inc": {"balance": 1}}, session=session)
    return session


def test_current_op_without_all_users_lists_only_the_callers_sessions(auth_uri: str) -> None:
    with (
        logged_in(auth_uri, "teller", "teller-pw", authSource="bank") as teller,
        logged_in(auth_uri, "clerk", "clerk-pw", authSource="bank") as clerk,
        logged_in(auth_uri, "monitor", "monitor-pw", authSource="bank") as monitor,
    ):
        t = _open_txn(teller, "ann")
        c = _open_txn(clerk, "bob")
        try:
            t_id, c_id = bytes(t.session_id["id"]), bytes(c.session_id["id"])
            assert _idle_lsids(teller, all_users=False) == [t_id]
            assert _idle_lsids(clerk, all_users=False) == [c_id]
            assert set(_idle_lsids(monitor, all_users=True)) == {t_id, c_id}
            assert _idle_lsids(monitor, all_users=False) == []
        finally:
            t.abort_transaction()
            c.abort_transaction()
            t.end_session()
            c.end_session()


def test_another_users_session_survives_kill_sessions_without_kill_any_session(
    auth_uri: str,
) -> None:
    with (
        logged_in(auth_uri, "teller", "teller-pw", authSource="bank") as teller,
        logged_in(auth_uri, "clerk", "clerk-pw", authSource="bank") as clerk,
        logged_in(auth_uri, ROOT_USER, ROOT_PASSWORD) as root,
    ):
        t = _open_txn(teller, "ann")
        try:
            # Another user's id names no session of theirs: ok, and nothing happens.
            assert clerk.admin.command("killSessions", [t.session_id])["ok"] == 1.0
            assert clerk.admin.command("endSessions", [t.session_id])["ok"] == 1.0
            teller.bank.accounts.update_one({"_id": "ann"}, {"$set": {"still": 1}}, session=t)
            # root holds killAnySession: the transaction is gone.
            root.admin.command("killSessions", [t.session_id])
            with pytest.raises(OperationFailure) as info:
                t.commit_transaction()
            assert info.value.code == 251
        finally:
            t.end_session()


def test_current_op_names_the_users_of_each_operation(auth_uri: str) -> None:
    with logged_in(auth_uri, "monitor", "monitor-pw", authSource="bank") as monitor:
        ops = list(monitor.admin.aggregate([{"$currentOp": {"allUsers": True}}]))
    (mine,) = [op for op in ops if op.get("command", {}).get("aggregate") == 1]
    assert mine["effectiveUsers"] == [{"user": "monitor", "db": "bank"}]

"""--auth: built-in roles grant what MongoDB's do, 13 Unauthorized in mongod's words where
they do not, and the user-management commands (issue 13 item 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo.errors import OperationFailure

from .auth_helpers import ROOT_PASSWORD, ROOT_USER, logged_in, start_auth_sandbox

USERS = {
    "reader": ["read"],
    "writer": ["readWrite"],
    "dba": ["dbAdmin"],
    "monitor": [{"role": "clusterMonitor", "db": "admin"}, "read"],
    "anyreader": [{"role": "readAnyDatabase", "db": "admin"}],
    "anywriter": [{"role": "readWriteAnyDatabase", "db": "admin"}],
}


@pytest.fixture(scope="module")
def auth_uri() -> Iterator[str]:
    server = start_auth_sandbox()
    with logged_in(server.uri, ROOT_USER, ROOT_PASSWORD) as root:
        for name, roles in USERS.items():
            root.bank.command("createUser", name, pwd=f"{name}-pw", roles=roles)
        root.bank.accounts.insert_one({"_id": "ann", "balance": 10})
        root.shop.orders.insert_one({"_id": 1})
    yield server.uri
    server.stop()


def _refused(fn) -> OperationFailure:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationFailure) as info:
        fn()
    assert info.value.code == 13 and info.value.details["codeName"] == "Unauthorized"
    return info.value


def test_read_reads_and_is_refused_writes_with_mongods_message(auth_uri: str) -> None:
    with logged_in(auth_uri, "reader", "reader-pw", authSource="bank") as c:
        assert c.bank.accounts.find_one({"_id": "ann"})["balance"] == 10
        assert c.bank.list_collection_names() == ["accounts"]
        exc = _refused(lambda: c.bank.accounts.insert_one({"_id": "bob"}))
        msg = exc.details["errmsg"]
        # [srv:db/commands.cpp CommandInvocation::checkAuthorization]: the body mongod
        # received, without the document sequence of the inserted documents.
        assert msg.startswith('not authorized on bank to execute command { insert: "accounts", ')
        assert '$db: "bank" }' in msg and "bob" not in msg
        _refused(lambda: c.shop.orders.find_one())  # another database
        _refused(lambda: c.bank.accounts.drop())


def test_read_write_writes_but_does_not_administer(auth_uri: str) -> None:
    with logged_in(auth_uri, "writer", "writer-pw", authSource="bank") as c:
        c.bank.accounts.update_one({"_id": "ann"}, {"$inc": {"balance": 1}})
        c.bank.scratch.create_index("k")
        c.bank.scratch.drop()
        _refused(lambda: c.drop_database("bank"))
        _refused(lambda: c.bank.command("collMod", "accounts"))
        _refused(lambda: c.admin.command("serverStatus"))


def test_db_admin_administers_but_does_not_read(auth_uri: str) -> None:
    with logged_in(auth_uri, "dba", "dba-pw", authSource="bank") as c:
        c.bank.command("collMod", "accounts")
        assert c.bank.command("dbStats")["ok"] == 1.0
        _refused(lambda: c.bank.accounts.find_one())


def test_cluster_monitor_sees_server_status_and_every_users_operations(auth_uri: str) -> None:
    with logged_in(auth_uri, "monitor", "monitor-pw", authSource="bank") as c:
        assert c.admin.command("serverStatus")["ok"] == 1.0
        assert c.admin.command("replSetGetStatus")["ok"] == 1.0
        ops = list(c.admin.aggregate([{"$currentOp": {"allUsers": True}}]))
        assert any(op.get("command", {}).get("aggregate") == 1 for op in ops)


def test_without_inprog_current_op_all_users_is_refused_own_ops_allowed(auth_uri: str) -> None:
    """$currentOp with allUsers: true needs inprog; without, a user sees its own
    [manual: aggregation/currentOp, Access Control]."""
    with logged_in(auth_uri, "reader", "reader-pw", authSource="bank") as c:
        exc = _refused(lambda: list(c.admin.aggregate([{"$currentOp": {"allUsers": True}}])))
        assert exc.details["errmsg"].startswith(
            "not authorized on admin to execute command { aggregate: 1, pipeline: [ { $currentOp: "
            "{ allUsers: true } } ]"
        )
        assert list(c.admin.aggregate([{"$currentOp": {"allUsers": False}}]))
        _refused(lambda: c.admin.command("serverStatus"))
        _refused(lambda: c.admin.command("currentOp"))


def test_kill_all_sessions_needs_kill_any_session(auth_uri: str) -> None:
    with logged_in(auth_uri, "monitor", "monitor-pw", authSource="bank") as c:
        _refused(lambda: c.admin.command("killAllSessions", []))
    with logged_in(auth_uri, ROOT_USER, ROOT_PASSWORD) as root:
        assert root.admin.command("killAllSessions", [])["ok"] == 1.0


def test_any_database_roles(auth_uri: str) -> None:
    with logged_in(auth_uri, "anyreader", "anyreader-pw", authSource="bank") as c:
        assert c.shop.orders.find_one() == {"_id": 1}
        assert c.bank.accounts.find_one()["_id"] == "ann"
        _refused(lambda: c.shop.orders.insert_one({"_id": 2}))
    with logged_in(auth_uri, "anywriter", "anywriter-pw", authSource="bank") as c:
        c.shop.orders.insert_one({"_id": 3})
        _refused(lambda: c.admin.command("serverStatus"))


def test_transactions_run_for_a_read_write_user(auth_uri: str) -> None:
    with logged_in(auth_uri, "writer", "writer-pw", authSource="bank") as c:
        with c.start_session() as s, s.start_transaction():
            c.bank.accounts.update_one({"_id": "ann"}, {"$inc": {"balance": 5}}, session=s)
        assert c.bank.accounts.find_one({"_id": "ann"})["balance"] >= 15


def test_granted_roles_apply_at_once_and_revoked_ones_go(auth_uri: str) -> None:
    with logged_in(auth_uri, ROOT_USER, ROOT_PASSWORD) as root:
        root.shop.command("createUser", "clerk", pwd="clerk-pw", roles=[])
        with logged_in(auth_uri, "clerk", "clerk-pw", authSource="shop") as clerk:
            _refused(lambda: clerk.shop.orders.find_one())
            root.shop.command("grantRolesToUser", "clerk", roles=["read"])
            assert clerk.shop.orders.find_one({"_id": 1}) == {"_id": 1}
            root.shop.command("revokeRolesFromUser", "clerk", roles=["read"])
            _refused(lambda: clerk.shop.orders.find_one())


def test_user_management_errors_and_users_info(auth_uri: str) -> None:
    with logged_in(auth_uri, ROOT_USER, ROOT_PASSWORD) as root:
        root.shop.command("createUser", "temp", pwd="temp-pw-1", roles=["read"])
        with pytest.raises(OperationFailure) as info:
            root.shop.command("createUser", "temp", pwd="temp-pw-1", roles=["read"])
        assert (info.value.code, info.value.details["errmsg"]) == (
            51003,
            'User "temp@shop" already exists',
        )
        with pytest.raises(OperationFailure) as info:
            root.shop.command("createUser", "x", pwd="x-pw", roles=["clusterMonitor"])
        assert info.value.details["codeName"] == "RoleNotFound"
        assert info.value.code == 31 and info.value.details["errmsg"] == (
            "Could not find role: clusterMonitor@shop"
        )
        users = root.shop.command("usersInfo", "temp")["users"]
        assert [(u["_id"], u["roles"], u["mechanisms"]) for u in users] == [
            ("shop.temp", [{"role": "read", "db": "shop"}], ["SCRAM-SHA-1", "SCRAM-SHA-256"])
        ]
        assert "credentials" not in users[0] and "temp-pw-1" not in str(users)
        root.shop.command("updateUser", "temp", pwd="temp-pw-2")
        with logged_in(auth_uri, "temp", "temp-pw-2", authSource="shop") as c:
            assert c.shop.orders.find_one({"_id": 1}) == {"_id": 1}
        with logged_in(auth_uri, "temp", "temp-pw-1", authSource="shop") as c:
            with pytest.raises(OperationFailure) as info:
                c.shop.command("ping")
            assert info.value.code == 18
        root.shop.command("dropUser", "temp")
        assert root.shop.command("usersInfo", "temp")["users"] == []
        with pytest.raises(OperationFailure) as info:
            root.shop.command("dropUser", "temp")
        assert info.value.code == 11 and info.value.details["codeName"] == "UserNotFound"


def test_a_refused_create_user_shows_xxx_for_the_password(auth_uri: str) -> None:
    """Command::snipForLogging puts "xxx" where the password was [srv:db/commands.cpp]."""
    with logged_in(auth_uri, "writer", "writer-pw", authSource="bank") as c:
        exc = _refused(
            lambda: c.bank.command("createUser", "sneaky", pwd="sneaky-pw-8", roles=["root"])
        )
    assert 'pwd: "xxx"' in exc.details["errmsg"] and "sneaky-pw-8" not in str(exc.details)


def test_a_user_may_always_see_itself(auth_uri: str) -> None:
    with logged_in(auth_uri, "reader", "reader-pw", authSource="bank") as c:
        assert [u["user"] for u in c.bank.command("usersInfo", "reader")["users"]] == ["reader"]
        _refused(lambda: c.bank.command("usersInfo", "writer"))

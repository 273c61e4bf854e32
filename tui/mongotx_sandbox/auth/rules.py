"""Which privileges a command needs, and the refusal mongod gives without them
[srv:db/commands.cpp checkAuthorizationImplPreParse and CommandInvocation::checkAuthorization;
each command's doCheckAuthorization; manual: reference/privilege-actions]."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from ..errors import CommandError
from .owners import record_owner
from .roles import CLUSTER, permits
from .text import command_text
from .users import AuthState

# Commands that run before authentication: requiresAuth() is false for them
# [srv:db/repl/replication_info.cpp (hello), db/commands/sasl_commands.cpp,
# db/commands/authentication_commands.cpp (authenticate, logout),
# db/commands/generic.cpp (ping, listCommands), db/commands/buildinfo_common.cpp
# (buildInfoAuthMode allowedPreAuth), db/commands/connection_status.cpp]. endSessions needs
# a login [db/commands/end_sessions_command.cpp].
NO_AUTH = frozenset(
    "hello isMaster ismaster saslStart saslContinue authenticate logout ping buildInfo "
    "buildinfo connectionStatus listCommands".split()
)
# Authenticated users run these on their own sessions and cursors with no privilege.
NO_PRIVILEGE = frozenset(
    "commitTransaction abortTransaction endSessions killSessions refreshSessions startSession "
    "getMore killCursors whatsmyuri listDatabases".split()
)

Need = list[tuple[str, str | None]]  # (action, database or CLUSTER)

_DB_ACTION = {
    "find": "find",
    "count": "find",
    "distinct": "find",
    "filemd5": "find",
    "insert": "insert",
    "update": "update",
    "delete": "remove",
    "listCollections": "listCollections",
    "listIndexes": "listIndexes",
    "create": "createCollection",
    "drop": "dropCollection",
    "dropDatabase": "dropDatabase",
    "createIndexes": "createIndex",
    "dropIndexes": "dropIndex",
    "deleteIndexes": "dropIndex",
    "collMod": "collMod",
    "dbStats": "dbStats",
    "dbstats": "dbStats",
    "collStats": "collStats",
    "collstats": "collStats",
    "validate": "validate",
    "dropUser": "dropUser",
}
_CLUSTER_ACTION = {
    "serverStatus": "serverStatus",
    "hostInfo": "hostInfo",
    "getCmdLineOpts": "getCmdLineOpts",
    "getParameter": "getParameter",
    "setParameter": "setParameter",
    "replSetGetStatus": "replSetGetStatus",
    "replSetGetConfig": "replSetGetConfig",
    "currentOp": "inprog",
    "killOp": "killop",
    "killAllSessions": "killAnySession",
    "killAllSessionsByPattern": "killAnySession",
}


def _find_and_modify(db: str, body: dict[str, Any]) -> Need:
    need: Need = [("find", db), ("remove" if body.get("remove") else "update", db)]
    if body.get("upsert"):
        need.append(("insert", db))
    return need


def _aggregate(db: str, body: dict[str, Any]) -> Need:
    need: Need = []
    pipeline = body.get("pipeline")
    for stage in pipeline if isinstance(pipeline, list) else []:
        if not isinstance(stage, dict):
            continue
        if "$currentOp" in stage:
            # $currentOp lists other users' operations only with inprog; without allUsers a
            # user sees its own [manual: aggregation/currentOp, "Access Control"].
            options = stage["$currentOp"]
            if isinstance(options, dict) and options.get("allUsers") is True:
                need.append(("inprog", CLUSTER))
            return need
        if "$changeStream" in stage:
            need.append(("changeStream", db))
        for out in ("$out", "$merge"):
            if out in stage:
                target = stage[out]
                target_db = target.get("db", db) if isinstance(target, dict) else db
                target_db = target_db if isinstance(target_db, str) else db
                need += [("insert", target_db), ("remove", target_db), ("update", target_db)]
    need.append(("find", db))
    return need


def _update(db: str, body: dict[str, Any]) -> Need:
    need: Need = [("update", db)]
    updates = body.get("updates")
    if isinstance(updates, list) and any(isinstance(u, dict) and u.get("upsert") for u in updates):
        need.append(("insert", db))
    return need


def _bulk_write(db: str, body: dict[str, Any]) -> Need:
    need: Need = []
    ns_info = body.get("nsInfo")
    for info in ns_info if isinstance(ns_info, list) else []:
        ns = info.get("ns") if isinstance(info, dict) else None
        if isinstance(ns, str):
            target = ns.split(".", 1)[0]
            need += [("insert", target), ("update", target), ("remove", target)]
    return need


def _explain(db: str, body: dict[str, Any]) -> Need:
    inner = body.get("explain")
    if isinstance(inner, dict) and inner:
        return required(next(iter(inner)), db, inner)
    return [("find", db)]


def _map_reduce(db: str, body: dict[str, Any]) -> Need:
    need: Need = [("find", db)]
    out = body.get("out")
    if not (isinstance(out, dict) and "inline" in out):
        target = out.get("db", db) if isinstance(out, dict) else db
        target = target if isinstance(target, str) else db
        need += [("insert", target), ("remove", target), ("createCollection", target)]
    return need


def _rename(db: str, body: dict[str, Any]) -> Need:
    need: Need = []
    for field in ("renameCollection", "to"):
        ns = body.get(field)
        if isinstance(ns, str):
            need.append(("renameCollectionSameDB", ns.split(".", 1)[0]))
    return need


def _roles_dbs(db: str, body: dict[str, Any], action: str) -> Need:
    """grantRolesToUser and friends: the action on each role's database."""
    roles = body.get("roles")
    need: Need = [(action, db)]
    for role in roles if isinstance(roles, list) else []:
        if isinstance(role, dict) and isinstance(role.get("db"), str):
            need.append((action, role["db"]))
    return need


def _grants(db: str, body: dict[str, Any]) -> Need:
    roles = body.get("roles")
    need: Need = []
    for role in roles if isinstance(roles, list) else []:
        role_db = role.get("db") if isinstance(role, dict) else db
        if isinstance(role_db, str) and ("grantRole", role_db) not in need:
            need.append(("grantRole", role_db))
    return need


def _update_user(db: str, body: dict[str, Any]) -> Need:
    need: Need = []
    if "pwd" in body:
        need.append(("changePassword", db))
    if "customData" in body:
        need.append(("changeCustomData", db))
    if "roles" in body:
        need += _roles_dbs(db, body, "grantRole") + _roles_dbs(db, body, "revokeRole")
    return need


_SPECIAL: dict[str, Callable[[str, dict[str, Any]], Need]] = {
    "findAndModify": _find_and_modify,
    "findandmodify": _find_and_modify,
    "aggregate": _aggregate,
    "update": _update,
    "bulkWrite": _bulk_write,
    "explain": _explain,
    "mapReduce": _map_reduce,
    "mapreduce": _map_reduce,
    "renameCollection": _rename,
    "grantRolesToUser": lambda db, body: _roles_dbs(db, body, "grantRole"),
    "revokeRolesFromUser": lambda db, body: _roles_dbs(db, body, "revokeRole"),
    "updateUser": _update_user,
    # createUser grants the user's roles too: grantRole on each role's database
    "createUser": lambda db, body: [("createUser", db), *_grants(db, body)],
    "usersInfo": lambda db, body: [("viewUser", db)],
}


def required(name: str, db: str, body: dict[str, Any]) -> Need:
    """The privileges `name` needs on `db` (every one of them). A command the table does
    not know needs what only root has."""
    if name in NO_AUTH or name in NO_PRIVILEGE:
        return []
    if name in _SPECIAL:
        return _SPECIAL[name](db, body)
    if name in _DB_ACTION:
        return [(_DB_ACTION[name], db)]
    if name in _CLUSTER_ACTION:
        return [(_CLUSTER_ACTION[name], CLUSTER)]
    return [("*", CLUSTER)]


# What a connection under the localhost exception may do: create users on admin (or
# $external) with roles of admin, and read the replica set's status.
_LOCALHOST = frozenset(
    {
        ("createUser", "admin"),
        ("grantRole", "admin"),
        ("createUser", "$external"),
        ("replSetGetStatus", CLUSTER),
    }
)


def is_loopback(peer: str) -> bool:
    host = peer.rsplit(":", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authorize(auth: AuthState, conn: Any, name: str, db: str, body: dict[str, Any]) -> None:
    """Raise 13 Unauthorized as mongod does when access control refuses the command."""
    if not auth.enforced or name in NO_AUTH:
        return
    record = conn.auth
    logged_in = record is not None and bool(record.users)
    if not logged_in:
        if not auth.users and is_loopback(conn.peer):
            # The localhost exception: with no user yet, a connection from this machine has
            # the privileges to create the first user, and no others
            # [manual: core/localhost-exception; srv:db/auth/authorization_session_impl.cpp
            # _getDefaultPrivileges; db/commands.cpp checkAuthorizationImplPreParse].
            for need in required(name, db, body):
                if need not in _LOCALHOST:
                    raise _not_authorized(db, body)
            return
        raise CommandError(13, f"Command {name} requires authentication")
    if "lsid" in body:
        record_owner(auth, conn, body["lsid"])
    if name == "usersInfo" and _only_self(record.users, db, body.get("usersInfo")):
        return  # a user may always see itself [manual: usersInfo, "Required Access"]
    roles = auth.roles_of(record)
    for action, target in required(name, db, body):
        if not permits(roles, action, target):
            raise _not_authorized(db, body)


def _not_authorized(db: str, body: dict[str, Any]) -> CommandError:
    return CommandError(13, f"not authorized on {db} to execute command {command_text(body)}")


def _only_self(users: list[tuple[str, str]], db: str, value: Any) -> bool:
    """usersInfo names only logged-in users."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str):
            key = (item, db)
        elif isinstance(item, dict):
            key = (item.get("user"), item.get("db"))
        else:
            return False
        if key not in users:
            return False
    return bool(items)

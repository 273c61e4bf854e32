"""MongoDB's built-in roles, as the actions each grants on a database, on every database
or on the cluster [manual: reference/built-in-roles; srv:db/auth/builtin_roles.yml]."""

from __future__ import annotations

CLUSTER = None  # the cluster resource, where a database name would be

_READ = frozenset(
    "find listCollections listIndexes collStats dbStats dbHash killCursors changeStream "
    "listSearchIndexes".split()
)
_READ_WRITE = _READ | frozenset(
    "insert update remove createCollection createIndex dropCollection dropIndex "
    "convertToCapped renameCollectionSameDB".split()
)
_DB_ADMIN = frozenset(
    "bypassDocumentValidation collMod collStats compact convertToCapped createCollection "
    "createIndex dbStats dropCollection dropDatabase dropIndex enableProfiler listCollections "
    "listIndexes planCacheRead planCacheWrite reIndex renameCollectionSameDB validate".split()
)
_USER_ADMIN = frozenset(
    "changeCustomData changePassword createRole createUser dropRole dropUser grantRole "
    "revokeRole viewRole viewUser".split()
)
_CLUSTER_MONITOR = frozenset(
    "serverStatus inprog replSetGetStatus replSetGetConfig getCmdLineOpts getParameter "
    "hostInfo listDatabases listSessions connPoolStats top getLog".split()
)
_HOST_MANAGER = frozenset("killop killAnySession setParameter".split())

# role -> ("db" | "any" | "cluster", actions): "db" grants on the role's own database,
# "any" on every database, "cluster" on the cluster resource.
Grant = tuple[str, frozenset[str]]
_DB_ROLES: dict[str, tuple[Grant, ...]] = {
    "read": (("db", _READ),),
    "readWrite": (("db", _READ_WRITE),),
    "dbAdmin": (("db", _DB_ADMIN),),
    "userAdmin": (("db", _USER_ADMIN),),
    "dbOwner": (("db", _READ_WRITE | _DB_ADMIN | _USER_ADMIN),),
}
# Roles that exist on the admin database only.
_ADMIN_ROLES: dict[str, tuple[Grant, ...]] = {
    "clusterMonitor": (
        ("cluster", _CLUSTER_MONITOR),
        ("any", frozenset({"collStats", "dbStats", "indexStats"})),
    ),
    "hostManager": (("cluster", _HOST_MANAGER),),
    "clusterAdmin": (("cluster", _CLUSTER_MONITOR | _HOST_MANAGER),),
    "readAnyDatabase": (("any", _READ), ("cluster", frozenset({"listDatabases"}))),
    "readWriteAnyDatabase": (("any", _READ_WRITE), ("cluster", frozenset({"listDatabases"}))),
    "dbAdminAnyDatabase": (("any", _DB_ADMIN), ("cluster", frozenset({"listDatabases"}))),
    "userAdminAnyDatabase": (("any", _USER_ADMIN), ("cluster", frozenset({"listDatabases"}))),
    # root: every action everywhere (the sandbox's test-only and internal commands too).
    "root": (("any", frozenset({"*"})), ("cluster", frozenset({"*"}))),
}


def exists(role: str, db: str) -> bool:
    """A built-in role of that name on that database."""
    return role in _DB_ROLES or (db == "admin" and role in _ADMIN_ROLES)


def permits(roles: list[tuple[str, str]], action: str, db: str | None) -> bool:
    """Whether any of `roles` ((role, its db) pairs) grants `action` on database `db`
    (CLUSTER: on the cluster resource)."""
    for role, role_db in roles:
        grants = _DB_ROLES.get(role) if role in _DB_ROLES else _ADMIN_ROLES.get(role, ())
        for scope, actions in grants or ():
            if action not in actions and "*" not in actions:
                continue
            if db is CLUSTER:
                if scope == "cluster":
                    return True
            elif scope == "any" or (scope == "db" and role_db == db):
                return True
    return False

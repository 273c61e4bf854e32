"""The command table: every command's name, the module that defines it, and what it may do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ..access import OpContext

Handler = Callable[["OpContext", dict[str, Any]], Awaitable[dict[str, Any]]]


class CommandSpec(NamedTuple):
    # A NamedTuple, not a frozen dataclass: as immutable, and about 0.4 ms less to create at
    # import, which the workbench's cold start pays.
    name: str
    handler: Handler
    in_transaction: bool = False  # may run inside a multi-document transaction
    retryable_write: bool = False  # accepts txnNumber without autocommit
    write: bool = False  # takes a writeConcern
    admin_only: bool = False
    reads: bool = False  # supports readConcern
    informational: bool = False  # reads no data (hello, ping, …); refused in a transaction too


# Every command name (aliases included), by the module of this package that defines it.
# A module is imported on the first lookup of one of its names, so a session pays only for
# the commands it sends; `command()` refuses a handler that is not listed here.
_BY_MODULE: dict[str, str] = {
    "apply_ops": "applyOps",
    "admin": "hello isMaster ismaster ping buildInfo buildinfo connectionStatus whatsmyuri "
    "getCmdLineOpts getParameter setParameter serverStatus hostInfo replSetGetStatus "
    "replSetGetConfig",
    "bulk_write": "bulkWrite",
    "crud": "insert update delete findAndModify findandmodify",
    "current_op": "currentOp killOp",
    "gridfs": "filemd5",
    "map_reduce": "mapReduce mapreduce",
    "migration": "sandboxMigrateClone sandboxRangeDeletion",
    "profiling": "profile getLog clearLog",
    "two_phase": "prepareTransaction coordinateCommitTransaction",
    "ddl": "create drop dropDatabase listCollections listDatabases createIndexes listIndexes "
    "dropIndexes deleteIndexes collMod renameCollection sandboxShardCollectionEvent",
    "explain": "explain",
    "failpoint": "configureFailPoint waitForFailPoint",
    "list_commands": "listCommands",
    "sasl": "saslStart saslContinue authenticate logout",
    "users": "createUser updateUser dropUser usersInfo grantRolesToUser revokeRolesFromUser",
    "replication": "replSetStepDown replSetFreeze sandboxMember",
    "query": "find getMore killCursors count distinct aggregate",
    "stats": "dbStats dbstats collStats collstats validate",
    "sessions": "commitTransaction abortTransaction endSessions killSessions killAllSessions "
    "killAllSessionsByPattern refreshSessions startSession",
}

MODULES: dict[str, str] = {name: mod for mod, names in _BY_MODULE.items() for name in names.split()}

# The commands whose module is loaded so far; list commands from MODULES, which has them all.
COMMANDS: dict[str, CommandSpec] = {}


def command(name: str, *aliases: str, **flags: bool) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        spec = CommandSpec(name, fn, **flags)
        for each in (name, *aliases):
            # A name missing from MODULES would never be looked up: fail at import instead.
            if f"{__package__}.{MODULES.get(each)}" != fn.__module__:
                raise LookupError(f"{each!r} ({fn.__module__}) is not listed in MODULES")
            COMMANDS[each] = spec
        return fn

    return register


def lookup(name: str) -> CommandSpec | None:
    """The command called `name` (exact case), its module imported on first use; None if
    the sandbox has no such command."""
    spec = COMMANDS.get(name)
    if spec is None and name in MODULES:
        import_module(f"{__package__}.{MODULES[name]}")
        # KeyError: MODULES names a command its module lacks (test_lazy_commands tries each).
        spec = COMMANDS[name]
    return spec

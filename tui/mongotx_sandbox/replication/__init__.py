"""A replica set of several sandbox members in one process: roles, an oplog each secondary
applies with its own delay, write and read concerns that wait on it, elections, rollback.

One member (the default) never loads this package: `ServerState.replica` stays None."""

from .member import SetMember
from .replset import ReplicaSet

__all__ = ["ReplicaSet", "SetMember"]

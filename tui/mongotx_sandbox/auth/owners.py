"""Whose sessions and operations are whose, under --auth: a session belongs to the users
logged in on the connection that first used it (mongod puts their digest, `uid`, in the
session id) [manual: reference/server-sessions; reference/command/killSessions,
"Session Identification"]."""

from __future__ import annotations

from typing import Any

from .roles import CLUSTER, permits
from .users import AuthState

Owner = tuple[tuple[str, str], ...]


def users_of(conn: Any) -> Owner:
    record = getattr(conn, "auth", None)
    return tuple(sorted(record.users)) if record is not None else ()


def _key(lsid: Any) -> Any:
    sid = lsid.get("id") if isinstance(lsid, dict) else None
    return bytes(sid) if isinstance(sid, bytes) else None


def record_owner(auth: AuthState, conn: Any, lsid: Any) -> None:
    """The first command with this lsid names its owner."""
    key = _key(lsid)
    if key is not None and key not in auth.owners:
        auth.owners[key] = users_of(conn)


def owns(auth: AuthState, conn: Any, lsid: Any) -> bool:
    """Without --auth every session is everyone's."""
    if not auth.enforced:
        return True
    return auth.owners.get(_key(lsid), ()) == users_of(conn)


def may_kill(auth: AuthState, conn: Any, lsid: Any) -> bool:
    """killSessions kills the caller's own sessions; another user's only with killAnySession
    (otherwise it has no effect, as the manual says: the id names a session of the caller)."""
    if owns(auth, conn, lsid):
        return True
    record = getattr(conn, "auth", None)
    return permits(auth.roles_of(record), "killAnySession", CLUSTER)

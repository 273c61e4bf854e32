"""Users, SCRAM authentication and authorization (--auth): who may run which command."""

from .rules import authorize
from .users import AuthState, ConnAuth, User, conn_auth

__all__ = ["AuthState", "ConnAuth", "User", "authorize", "conn_auth", "enforce"]


def enforce(users: list[tuple[str, str]] = []) -> AuthState:  # noqa: B006
    """Access control on (--auth), with each (name, password) of `users` a root user of the
    admin database (--user)."""
    auth = AuthState(enforced=True)
    for name, password in users:
        auth.create(name, "admin", password, [("root", "admin")])
    return auth

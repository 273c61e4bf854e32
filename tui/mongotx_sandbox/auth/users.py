"""The users of a sandbox started with --auth (or given one by createUser), and who is
logged in on each connection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from .scram import MECHANISMS, Conversation, Credential, make_credential


@dataclass
class User:
    """One user of admin.system.users: the salted keys of its password, never the password."""

    name: str
    db: str
    roles: list[tuple[str, str]]
    credentials: dict[str, Credential]
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)
    custom_data: dict[str, Any] | None = None

    def set_password(self, password: str, mechanisms: list[str] | None = None) -> None:
        mechs = mechanisms or list(self.credentials) or list(MECHANISMS)
        self.credentials = {m: make_credential(m, self.name, password) for m in mechs}


@dataclass
class ConnAuth:
    """Who is logged in on one connection, and the SASL conversation under way."""

    users: list[tuple[str, str]] = field(default_factory=list)  # (name, db)
    conversation: Conversation | None = None
    conversation_db: str = ""
    conversation_id: int = 0
    skip_empty: bool = False  # saslStart's options.skipEmptyExchange
    final_sent: bool = False  # the server-final message went out; an empty round follows


@dataclass
class AuthState:
    """`enforced`: started with --auth (access control); without it users may still be
    created and authenticate, as on a mongod without --auth."""

    enforced: bool = False
    users: dict[tuple[str, str], User] = field(default_factory=dict)  # (name, db) -> user
    # The owner of each session id (owners.py): the users of its first command's connection.
    owners: dict[bytes, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def create(
        self,
        name: str,
        db: str,
        password: str,
        roles: list[tuple[str, str]],
        mechanisms: list[str] | None = None,
    ) -> User:
        user = User(name, db, roles, {})
        user.set_password(password, mechanisms or list(MECHANISMS))
        self.users[(name, db)] = user
        return user

    def roles_of(self, conn_auth: ConnAuth | None) -> list[tuple[str, str]]:
        if conn_auth is None:
            return []
        roles: list[tuple[str, str]] = []
        for key in conn_auth.users:
            user = self.users.get(key)
            if user is not None:
                roles.extend(user.roles)
        return roles


def conn_auth(conn: Any) -> ConnAuth:
    """The connection's login record, made on first use."""
    record = conn.auth
    if record is None:
        record = conn.auth = ConnAuth()
    return record

"""SCRAM-SHA-1 and SCRAM-SHA-256 as MongoDB runs them, on the `scramp` library: the only
module that imports it. No password or SASL payload leaves this module in an exception."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from scramp import ScramException, ScramMechanism

MECHANISMS = ("SCRAM-SHA-1", "SCRAM-SHA-256")
# mongod's defaults: scramIterationCount 10000, scramSHA256IterationCount 15000
# [manual: parameters, scramIterationCount and scramSHA256IterationCount].
_ITERATIONS = {"SCRAM-SHA-1": 10_000, "SCRAM-SHA-256": 15_000}
_MECHS = {name: ScramMechanism(name) for name in MECHANISMS}


class ScramFailed(Exception):
    """The conversation failed; carries no detail (mongod says only "Authentication failed.")."""


@dataclass(frozen=True)
class Credential:
    """What `credentials` holds for one mechanism: never the password itself."""

    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int


def scram_password(mechanism: str, user: str, password: str) -> str:
    """The secret SCRAM hashes: SCRAM-SHA-1 uses the hex MD5 of "user:mongo:password" (the
    legacy MONGODB-CR digest), SCRAM-SHA-256 the password itself (SASLprep is scramp's)
    [spec: auth/auth.md, SCRAM-SHA-1 and SCRAM-SHA-256]."""
    if mechanism == "SCRAM-SHA-1":
        return hashlib.md5(f"{user}:mongo:{password}".encode()).hexdigest()
    return password


def make_credential(mechanism: str, user: str, password: str) -> Credential:
    """Salted keys for a new password (createUser, updateUser)."""
    salt, stored, server, iterations = _MECHS[mechanism].make_auth_info(
        scram_password(mechanism, user, password), iteration_count=_ITERATIONS[mechanism]
    )
    return Credential(salt, stored, server, iterations)


class Conversation:
    """The server side of one SCRAM exchange: client-first in, server-first out, then
    client-final in, server-final out. `lookup(name)` finds the user's stored credential
    for this mechanism (None: no such user, or not with this mechanism)."""

    def __init__(self, mechanism: str, lookup: Callable[[str], Credential | None]) -> None:
        self.mechanism = mechanism
        self.user_name: str | None = None

        def auth_fn(name: str) -> tuple[bytes, bytes, bytes, int]:
            self.user_name = name
            cred = lookup(name)
            if cred is None:
                raise ScramFailed()
            return cred.salt, cred.stored_key, cred.server_key, cred.iterations

        self._server = _MECHS[mechanism].make_server(auth_fn)

    def first(self, client_first: bytes) -> bytes:
        try:
            self._server.set_client_first(client_first.decode())
            return self._server.get_server_first().encode()
        except (ScramException, UnicodeDecodeError, ValueError, ScramFailed):
            raise ScramFailed() from None

    def final(self, client_final: bytes) -> bytes:
        try:
            self._server.set_client_final(client_final.decode())
            return self._server.get_server_final().encode()
        except (ScramException, UnicodeDecodeError, ValueError, ScramFailed):
            raise ScramFailed() from None

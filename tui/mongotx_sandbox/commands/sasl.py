"""saslStart, saslContinue, authenticate and logout: logging in on a connection (auth/)."""

from __future__ import annotations

from typing import Any

from ..access import OpContext
from ..auth import sasl
from ..errors import CommandError
from .registry import command


def _no_users() -> CommandError:
    # A sandbox no user was ever created on (no --auth, no createUser) says why plainly.
    return CommandError(
        18,
        "Authentication failed: the mongotx sandbox has no users; connect without credentials",
    )


@command("saslStart")
async def sasl_start(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    auth = ctx.state.auth
    if auth is None:
        raise _no_users()
    return sasl.start(auth, ctx.connection, ctx.db, body)


@command("saslContinue")
async def sasl_continue(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    auth = ctx.state.auth
    if auth is None:
        raise _no_users()
    return sasl.proceed(auth, ctx.connection, ctx.db, body)


@command("authenticate")
async def authenticate(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """MONGODB-X509 and the retired MONGODB-CR: the sandbox offers neither."""
    if ctx.state.auth is None:
        raise _no_users()
    raise sasl.failed()


@command("logout")
async def logout(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    """Log out the users of this database from the connection
    [srv:db/commands/authentication_commands.cpp CmdLogout]."""
    record = getattr(ctx.connection, "auth", None)
    if record is not None:
        record.users = [key for key in record.users if key[1] != ctx.db]
    return {"ok": 1.0}

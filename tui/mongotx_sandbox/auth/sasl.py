"""The SASL conversation of saslStart and saslContinue (and of hello's
speculativeAuthenticate) over SCRAM [spec: auth/auth.md; srv:db/auth/sasl_commands.cpp].
Every failure is 18 AuthenticationFailed "Authentication failed.", whatever went wrong,
as mongod answers (it tells the client nothing about the user or the password)."""

from __future__ import annotations

from typing import Any

from bson.binary import Binary

from ..errors import CommandError
from .scram import MECHANISMS, Conversation, ScramFailed
from .users import AuthState, conn_auth

AUTH_FAILED = "Authentication failed."


def failed() -> CommandError:
    return CommandError(18, AUTH_FAILED)


def start(auth: AuthState, conn: Any, db: str, body: dict[str, Any]) -> dict[str, Any]:
    """saslStart: the client-first message in, the server-first message out."""
    mechanism = body.get("mechanism")
    if mechanism not in MECHANISMS:
        # [srv:db/auth/sasl_commands.cpp: a mechanism the server does not offer]
        raise CommandError(
            334, f"Received authentication for mechanism {mechanism} which is not enabled"
        )
    payload = body.get("payload")
    if not isinstance(payload, bytes | Binary):
        raise failed()
    record = conn_auth(conn)

    def lookup(name: str) -> Any:
        user = auth.users.get((name, db))
        return None if user is None else user.credentials.get(mechanism)

    conversation = Conversation(mechanism, lookup)
    record.conversation = None
    try:
        server_first = conversation.first(bytes(payload))
    except ScramFailed:
        raise failed() from None
    record.conversation = conversation
    record.conversation_db = db
    record.final_sent = False
    record.conversation_id += 1
    options = body.get("options")
    record.skip_empty = isinstance(options, dict) and bool(options.get("skipEmptyExchange"))
    return {
        "conversationId": record.conversation_id,
        "done": False,
        "payload": Binary(server_first),
        "ok": 1.0,
    }


def proceed(auth: AuthState, conn: Any, db: str, body: dict[str, Any]) -> dict[str, Any]:
    """saslContinue: the client-final message in, the server-final message out (and, without
    skipEmptyExchange, one more empty round to say done)."""
    record = conn_auth(conn)
    conversation = record.conversation
    payload = body.get("payload")
    if (
        conversation is None
        or body.get("conversationId") != record.conversation_id
        or db != record.conversation_db
        or not isinstance(payload, bytes | Binary)
    ):
        record.conversation = None
        raise failed()
    if record.final_sent:
        record.conversation = None
        record.final_sent = False
        return _reply(record.conversation_id, True, b"")
    try:
        server_final = conversation.final(bytes(payload))
    except ScramFailed:
        record.conversation = None
        raise failed() from None
    key = (conversation.user_name or "", db)
    _one_user(record.users, key)
    if key not in record.users:
        record.users.append(key)
    if record.skip_empty:
        record.conversation = None
        return _reply(record.conversation_id, True, server_final)
    record.final_sent = True
    return _reply(record.conversation_id, False, server_final)


def _one_user(users: list[tuple[str, str]], key: tuple[str, str]) -> None:
    """A connection logs in as one user; again as the same one is allowed
    [srv:db/auth/authorization_session_impl.cpp addAndAuthorizeUser]."""
    if not users or key in users:
        return
    previous = f"{users[0][0]}@{users[0][1]}"
    if users[0][1] == key[1]:
        raise CommandError(
            5626701,
            "Each client connection may only be authenticated once. "
            f"Previously authenticated as: {previous}",
        )
    raise CommandError(
        5626702,
        f"Client has attempted to authenticate on multiple databases.Already authenticated as: "
        f"{previous}",
    )


def _reply(conversation_id: int, done: bool, payload: bytes) -> dict[str, Any]:
    return {"conversationId": conversation_id, "done": done, "payload": Binary(payload), "ok": 1.0}


def speculative(auth: AuthState, conn: Any, request: Any) -> dict[str, Any] | None:
    """hello's speculativeAuthenticate: run its saslStart and put the reply's conversation
    in hello's reply; a failure leaves the field out, and the driver authenticates the
    ordinary way [spec: auth/auth.md, "Speculative Authentication"]."""
    if not isinstance(request, dict) or "saslStart" not in request:
        return None
    db = request.get("db")
    if not isinstance(db, str):
        return None
    try:
        reply = start(auth, conn, db, request)
    except CommandError:
        return None
    reply.pop("ok")
    return reply


def supported_mechs(auth: AuthState, value: Any) -> list[str] | None:
    """hello's saslSupportedMechs: "db.user" -> the user's mechanisms, None for no such user
    (the field is then left out) [srv:db/repl/replication_info.cpp, handleIsMaster]."""
    if not isinstance(value, str) or "." not in value:
        return None
    db, name = value.split(".", 1)
    user = auth.users.get((name, db))
    return None if user is None else sorted(user.credentials)

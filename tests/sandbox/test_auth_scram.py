"""--auth: SCRAM-SHA-256 and SCRAM-SHA-1 logins with real pymongo (sync and async), hello's
speculativeAuthenticate and saslSupportedMechs, 18 AuthenticationFailed, the localhost
exception (issue 13 item 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bson.binary import Binary
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import OperationFailure
from scramp import ScramClient

from mongotx_sandbox import ThreadedSandbox
from mongotx_sandbox.auth import enforce

from .auth_helpers import ROOT_PASSWORD, ROOT_USER, logged_in, login_uri, start_auth_sandbox
from .rawclient import RawClient


@pytest.fixture(scope="module")
def auth_uri() -> Iterator[str]:
    server = start_auth_sandbox()
    with logged_in(server.uri, ROOT_USER, ROOT_PASSWORD) as root:
        root.bank.command("createUser", "teller", pwd="teller-pw-3x", roles=["readWrite"])
        root.bank.command(
            "createUser",
            "sha256only",
            pwd="only-pw-9z",
            roles=["read"],
            mechanisms=["SCRAM-SHA-256"],
        )
    yield server.uri
    server.stop()


def _who(client: MongoClient) -> list[dict]:
    return client.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"]


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1", None])
def test_each_mechanism_logs_in(auth_uri: str, mechanism: str | None) -> None:
    options = {"authSource": "bank"} | ({"authMechanism": mechanism} if mechanism else {})
    with logged_in(auth_uri, "teller", "teller-pw-3x", **options) as c:
        c.bank.accounts.insert_one({"owner": "ann"})
        assert c.bank.accounts.count_documents({"owner": "ann"}) >= 1
        assert _who(c) == [{"user": "teller", "db": "bank"}]


def test_a_user_without_sha1_cannot_use_it(auth_uri: str) -> None:
    with logged_in(auth_uri, "sha256only", "only-pw-9z", authSource="bank") as c:
        assert _who(c) == [{"user": "sha256only", "db": "bank"}]
    with logged_in(
        auth_uri, "sha256only", "only-pw-9z", authSource="bank", authMechanism="SCRAM-SHA-1"
    ) as c:
        with pytest.raises(OperationFailure) as info:
            c.bank.command("ping")
    assert info.value.code == 18


@pytest.mark.parametrize(
    ("user", "password"), [(ROOT_USER, "not-the-pw-1"), ("nobody", "not-the-pw-1")]
)
def test_a_wrong_password_or_user_is_18_without_detail(
    auth_uri: str, user: str, password: str
) -> None:
    with logged_in(auth_uri, user, password) as c:
        with pytest.raises(OperationFailure) as info:
            c.admin.command("ping")
    assert info.value.code == 18
    assert info.value.details["codeName"] == "AuthenticationFailed"
    assert info.value.details["errmsg"] == "Authentication failed."
    assert "not-the-pw-1" not in str(info.value.details)


async def test_async_pymongo_logs_in_and_fails_alike(auth_uri: str) -> None:
    good = AsyncMongoClient(login_uri(auth_uri, "teller", "teller-pw-3x", authSource="bank"))
    try:
        status = await good.admin.command("connectionStatus")
        assert status["authInfo"]["authenticatedUsers"] == [{"user": "teller", "db": "bank"}]
        await good.bank.accounts.insert_one({"owner": "async"})
    finally:
        await good.close()
    bad = AsyncMongoClient(login_uri(auth_uri, "teller", "wrong-pw-5", authSource="bank"))
    try:
        with pytest.raises(OperationFailure) as info:
            await bad.bank.accounts.find_one()
        assert info.value.code == 18
    finally:
        await bad.close()


def test_hello_lists_a_users_mechanisms(auth_uri: str) -> None:
    raw = RawClient(auth_uri)
    try:
        hello = raw.command({"hello": 1, "saslSupportedMechs": "bank.sha256only"})
        assert hello["saslSupportedMechs"] == ["SCRAM-SHA-256"]
        hello = raw.command({"hello": 1, "saslSupportedMechs": f"admin.{ROOT_USER}"})
        assert hello["saslSupportedMechs"] == ["SCRAM-SHA-1", "SCRAM-SHA-256"]
        # No such user: the field is left out.
        assert "saslSupportedMechs" not in raw.command(
            {"hello": 1, "saslSupportedMechs": "bank.nobody"}
        )
    finally:
        raw.close()


def test_speculative_authentication_saves_the_saslstart(auth_uri: str) -> None:
    """hello carries saslStart; its reply carries the server-first message, and one
    saslContinue finishes the login, as pymongo does it (auth spec)."""
    scram = ScramClient(["SCRAM-SHA-256"], "teller", "teller-pw-3x")
    raw = RawClient(auth_uri)
    try:
        hello = raw.command(
            {
                "hello": 1,
                "speculativeAuthenticate": {
                    "saslStart": 1,
                    "mechanism": "SCRAM-SHA-256",
                    "payload": Binary(scram.get_client_first().encode()),
                    "options": {"skipEmptyExchange": True},
                    "db": "bank",
                },
            }
        )
        spec = hello["speculativeAuthenticate"]
        assert spec["done"] is False and set(spec) == {"conversationId", "done", "payload"}
        scram.set_server_first(bytes(spec["payload"]).decode())
        reply = raw.command(
            {
                "saslContinue": 1,
                "conversationId": spec["conversationId"],
                "payload": Binary(scram.get_client_final().encode()),
            },
            db="bank",
        )
        assert reply["done"] is True
        scram.set_server_final(bytes(reply["payload"]).decode())  # the server proved itself
        status = raw.command({"connectionStatus": 1})
        assert status["authInfo"]["authenticatedUsers"] == [{"user": "teller", "db": "bank"}]
    finally:
        raw.close()


def test_without_skip_empty_exchange_one_more_round_says_done(auth_uri: str) -> None:
    scram = ScramClient(["SCRAM-SHA-1"], "teller", _sha1_password("teller", "teller-pw-3x"))
    raw = RawClient(auth_uri)
    try:
        first = raw.command(
            {
                "saslStart": 1,
                "mechanism": "SCRAM-SHA-1",
                "payload": Binary(scram.get_client_first().encode()),
            },
            db="bank",
        )
        scram.set_server_first(bytes(first["payload"]).decode())
        second = raw.command(
            {
                "saslContinue": 1,
                "conversationId": first["conversationId"],
                "payload": Binary(scram.get_client_final().encode()),
            },
            db="bank",
        )
        assert second["done"] is False
        scram.set_server_final(bytes(second["payload"]).decode())
        third = raw.command(
            {"saslContinue": 1, "conversationId": first["conversationId"], "payload": b""},
            db="bank",
        )
        assert third["done"] is True and bytes(third["payload"]) == b""
    finally:
        raw.close()


def _sha1_password(user: str, password: str) -> str:
    import hashlib

    return hashlib.md5(f"{user}:mongo:{password}".encode()).hexdigest()


def test_unauthenticated_clients_get_only_what_mongod_allows(auth_uri: str) -> None:
    raw = RawClient(auth_uri)
    try:
        for cmd in ({"hello": 1}, {"isMaster": 1}, {"ping": 1}, {"buildInfo": 1}):
            assert raw.command(cmd)["ok"] == 1.0, cmd
        assert raw.command({"connectionStatus": 1})["authInfo"]["authenticatedUsers"] == []
        listed = raw.command({"listCommands": 1})["commands"]
        assert not listed["hello"]["requiresAuth"] and not listed["saslStart"]["requiresAuth"]
        assert listed["find"]["requiresAuth"] and listed["endSessions"]["requiresAuth"]
        for name, body in (
            ("find", {"find": "accounts"}),
            ("listDatabases", {"listDatabases": 1}),
            ("serverStatus", {"serverStatus": 1}),
            ("endSessions", {"endSessions": []}),
        ):
            reply = raw.command(body, db="admin" if name != "find" else "bank")
            assert reply["code"] == 13 and reply["codeName"] == "Unauthorized"
            assert reply["errmsg"] == f"Command {name} requires authentication"
    finally:
        raw.close()


def test_the_localhost_exception_creates_the_first_user_only() -> None:
    """With no user yet, a client on this machine may create one, and nothing else; the
    first user closes the exception [manual: core/localhost-exception]."""
    server = start_auth_sandbox(users=[])
    try:
        with MongoClient(server.uri, serverSelectionTimeoutMS=5000) as anon:
            # Under the exception a command is checked against its few privileges.
            with pytest.raises(OperationFailure) as info:
                anon.bank.accounts.find_one()
            assert info.value.details["errmsg"].startswith(
                'not authorized on bank to execute command { find: "accounts"'
            )
            for db, roles in (("bank", ["readWrite"]), ("admin", [{"role": "read", "db": "x"}])):
                with pytest.raises(OperationFailure) as info:
                    anon[db].command("createUser", "early", pwd="early-pw-2", roles=roles)
                assert info.value.code == 13
            assert anon.admin.command("replSetGetStatus")["ok"] == 1.0
            anon.admin.command("createUser", "first", pwd="first-pw-2", roles=["root"])
            with pytest.raises(OperationFailure) as info:
                anon.admin.command("createUser", "second", pwd="second-pw-2", roles=["root"])
            assert info.value.details["errmsg"] == "Command createUser requires authentication"
        with logged_in(server.uri, "first", "first-pw-2") as first:
            first.admin.command("createUser", "second", pwd="second-pw-2", roles=["read"])
    finally:
        server.stop()


def test_without_auth_a_created_user_can_log_in_and_nothing_is_enforced() -> None:
    """A mongod without --auth keeps and authenticates users but checks no privilege."""
    with ThreadedSandbox() as uri:
        with MongoClient(uri, serverSelectionTimeoutMS=5000) as anon:
            anon.bank.command("createUser", "viewer", pwd="viewer-pw-4", roles=["read"])
        with logged_in(uri, "viewer", "viewer-pw-4", authSource="bank") as viewer:
            viewer.bank.accounts.insert_one({"allowed": True})  # read only, but not enforced
            assert _who(viewer) == [{"user": "viewer", "db": "bank"}]


def _login(raw: RawClient, user: str, password: str, db: str) -> dict:
    scram = ScramClient(["SCRAM-SHA-256"], user, password)
    first = raw.command(
        {
            "saslStart": 1,
            "mechanism": "SCRAM-SHA-256",
            "payload": Binary(scram.get_client_first().encode()),
            "options": {"skipEmptyExchange": True},
        },
        db=db,
    )
    scram.set_server_first(bytes(first["payload"]).decode())
    return raw.command(
        {
            "saslContinue": 1,
            "conversationId": first["conversationId"],
            "payload": Binary(scram.get_client_final().encode()),
        },
        db=db,
    )


def test_a_connection_logs_in_as_one_user(auth_uri: str) -> None:
    """Again as the same user is fine; as another is refused
    [srv:db/auth/authorization_session_impl.cpp addAndAuthorizeUser]."""
    raw = RawClient(auth_uri)
    try:
        assert _login(raw, "teller", "teller-pw-3x", "bank")["done"] is True
        assert _login(raw, "teller", "teller-pw-3x", "bank")["done"] is True
        again = _login(raw, "sha256only", "only-pw-9z", "bank")
        assert again["code"] == 5626701 and again["errmsg"] == (
            "Each client connection may only be authenticated once. Previously authenticated "
            "as: teller@bank"
        )
        other_db = _login(raw, ROOT_USER, ROOT_PASSWORD, "admin")
        assert other_db["code"] == 5626702
        status = raw.command({"connectionStatus": 1})
        assert status["authInfo"]["authenticatedUsers"] == [{"user": "teller", "db": "bank"}]
    finally:
        raw.close()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_pymongo_logs_in_speculatively_without_a_sasl_start(mechanism: str) -> None:
    """pymongo puts saslStart in its handshake hello; the sandbox answers it there, so the
    login costs one saslContinue (auth spec, "Speculative Authentication")."""
    from collections import Counter

    from mongotx_sandbox import dispatch

    seen: Counter[str] = Counter()

    async def counting(state, conn, request):  # type: ignore[no-untyped-def]
        seen[next(iter(request.body), "")] += 1
        return await dispatch.handle(state, conn, request)

    server = ThreadedSandbox(handler=counting)
    server.server.state.auth = enforce([("spec", "spec-pw-5")])
    uri = server.start()
    try:
        with logged_in(uri, "spec", "spec-pw-5", authMechanism=mechanism) as c:
            assert _who(c) == [{"user": "spec", "db": "admin"}]
    finally:
        server.stop()
    assert seen["saslStart"] == 0 and seen["saslContinue"] == 1

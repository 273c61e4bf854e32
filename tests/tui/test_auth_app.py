"""The app against an --auth sandbox (issue 13 item 4): a wrong password, at start or in the
connect dialog (F2), says 18 AuthenticationFailed in one sentence and never the password;
the server view of a user without clusterMonitor lists its own transactions and names the
privilege it lacks. The real app, a real sandbox over a socket, real pymongo; a Pilot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from test_server_view import kill, lane_a_in_txn, open_view
from tuihelpers import ready, until

from mongotx_sandbox import ThreadedSandbox
from mongotx_sandbox.auth import enforce
from mongotx_tui.app import MongoTxApp
from mongotx_tui.backend.server_view import OWN_ONLY
from mongotx_tui.config import Config
from mongotx_tui.screens.dialogs import ConnectScreen, FaultScreen
from mongotx_tui.screens.server_view import ServerViewScreen

ROOT_PW = "App-root-pw-41"
TELLER_PW = "App-teller-pw-42"
WRONG_PW = "App-wrong-pw-43"


@pytest.fixture(scope="module")
def auth_uri() -> Iterator[str]:
    server = ThreadedSandbox()
    server.server.state.auth = enforce([("boss", ROOT_PW)])
    uri = server.start()
    root = MongoClient(uri.replace("mongodb://", f"mongodb://boss:{ROOT_PW}@"))
    root.bank.command("createUser", "teller", pwd=TELLER_PW, roles=["readWrite"])
    root.bank.command(
        "createUser",
        "monitor",
        pwd=TELLER_PW,
        roles=["readWrite", {"role": "clusterMonitor", "db": "admin"}],
    )
    root.bank.accounts.insert_many([{"_id": "alice", "balance": 100}, {"_id": "bob"}])
    root.close()
    yield uri
    server.stop()


def _as(uri: str, user: str, password: str) -> str:
    return uri.replace("mongodb://", f"mongodb://{user}:{password}@") + "&authSource=bank"


def _sentence() -> str:
    return (
        "The server refused user 'teller' (authSource bank) with 18 AuthenticationFailed: the "
        "user name, the password or the authentication database is wrong."
    )


def _shown(screen) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(str(w.render()) for w in screen.query("Static, Label"))


async def test_a_wrong_password_at_start_is_one_sentence_without_the_password(
    auth_uri: str,
) -> None:
    app = MongoTxApp(_as(auth_uri, "teller", WRONG_PW), config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FaultScreen), 20, "fault screen")
        text = _shown(app.screen)
        assert "Login refused" in text and _sentence() in text
        assert "Cannot reach" not in text
        assert WRONG_PW not in text and "teller:****@" in text


async def test_the_connect_dialog_says_why_the_login_failed_then_logs_in(auth_uri: str) -> None:
    app = MongoTxApp(config=Config())
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await ready(app, pilot)
        for password in (WRONG_PW, TELLER_PW):
            ready_at = app.ready_at
            await pilot.press("f2")
            await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
            app.screen.query_one("#uri").value = _as(auth_uri, "teller", password)  # type: ignore[attr-defined]
            await pilot.press("enter")
            if password == WRONG_PW:
                await until(pilot, lambda: app._notifications, 20, "a notification")
                (toast,) = [n.message for n in app._notifications]
                assert toast.startswith(_sentence() + "\nStill connected to ")
                assert WRONG_PW not in toast
                assert app.wb.is_sandbox
                app.clear_notifications()
        await until(pilot, lambda: app.ready_at != ready_at, 20, "switched")
        assert not app.wb.is_sandbox and app.wb.deployment is not None
        assert "teller:****@" in app.wb.deployment.describe()


async def test_server_view_without_cluster_monitor_names_the_missing_privilege(
    auth_uri: str,
) -> None:
    """teller (readWrite) may not list every user's operations: the view lists the lanes'
    own transactions and says inprog is missing; another user's open transaction is not
    listed (mongod lists only the caller's without allUsers)."""
    other = MongoClient(auth_uri.replace("mongodb://", f"mongodb://boss:{ROOT_PW}@"))
    session = other.start_session()
    session.start_transaction()
    other.bank.accounts.update_one({"_id": "bob"}, {"$set": {"x": 1}}, session=session)
    try:
        app = MongoTxApp(_as(auth_uri, "teller", TELLER_PW), config=Config())
        async with app.run_test(size=(120, 36)) as pilot:
            await ready(app, pilot)
            await lane_a_in_txn(app, pilot)
            screen = await open_view(pilot)
            assert isinstance(screen, ServerViewScreen)
            await until(pilot, lambda: screen.reads >= 1, 20, "the first read")
            assert screen.view.error == ""
            assert [t.owner for t in screen.view.txns] == ["lane A"]
            assert screen.view.note == OWN_ONLY
            assert "inprog privilege" in str(screen.query_one("#sv-status").render())
    finally:
        session.abort_transaction()
        session.end_session()
        other.close()


async def test_the_app_connects_over_tls_with_a_user(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`mongotx-tui "mongodb://user:pass@…/?tls=true&tlsCAFile=ca.pem"` against
    `mongotx-sandbox --tls --auth`: connected, the header masks the password."""
    import trustme

    from mongotx_sandbox.tls import server_context

    ca = trustme.CA()
    pem, ca_pem = tmp_path / "server.pem", tmp_path / "ca.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    server = ThreadedSandbox()
    server.server.state.auth = enforce([("boss", ROOT_PW)])
    server.server.ssl_context = server_context(str(pem))
    uri = server.start()
    try:
        login = uri.replace("mongodb://", f"mongodb://boss:{ROOT_PW}@") + f"&tlsCAFile={ca_pem}"
        app = MongoTxApp(login, config=Config())
        async with app.run_test(size=(120, 36)) as pilot:
            await ready(app, pilot)
            assert app.wb.deployment is not None and app.wb.deployment.transactions_supported
            header = str(app.screen.query_one("#deployment").render())
            assert "boss:****@" in header and "tls=true" in header and ROOT_PW not in header
    finally:
        server.stop()


async def test_killing_another_users_session_says_kill_any_session_is_needed(
    auth_uri: str,
) -> None:
    """monitor (clusterMonitor: inprog, no killAnySession) sees boss's transaction and asks
    to kill it: killSessions answers ok but ends only monitor's own sessions, so the view
    says the transaction stayed open and which privilege that needs; boss still commits."""
    other = MongoClient(auth_uri.replace("mongodb://", f"mongodb://boss:{ROOT_PW}@"))
    session = other.start_session()
    session.start_transaction()
    other.bank.accounts.update_one({"_id": "bob"}, {"$set": {"y": 1}}, session=session)
    try:
        app = MongoTxApp(_as(auth_uri, "monitor", TELLER_PW), config=Config())
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            await ready(app, pilot)
            screen = await open_view(pilot)
            await until(pilot, lambda: len(screen.view.txns) == 1, 20, "boss's transaction")
            assert screen.view.note == ""  # inprog: every user's
            (txn,) = screen.view.txns
            await kill(pilot, screen, txn)
            await until(pilot, lambda: app._notifications, 20, "the outcome")
            (toast,) = [n.message for n in app._notifications]
            assert toast.endswith(
                "open: killSessions ends this user's own sessions only; another user's needs "
                "the killAnySession privilege (cluster resource)"
            )
        session.commit_transaction()
        assert other.bank.accounts.find_one({"_id": "bob"})["y"] == 1
    finally:
        session.end_session()
        other.close()

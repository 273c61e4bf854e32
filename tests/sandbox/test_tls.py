"""--tls: a certificate made with trustme, `tls=true&tlsCAFile=…` URIs with real pymongo
(sync and async), refusals of plain and wrongly trusted clients; the command line with
--auth, whose output never shows a password (issue 13 item 4)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

from mongotx_sandbox import ThreadedSandbox
from mongotx_sandbox.tls import server_context


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_pem = folder / "server.pem"
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(server_pem)
    )
    ca_pem = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    other_ca = folder / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    return {"server": server_pem, "ca": ca_pem, "other_ca": other_ca}


@pytest.fixture(scope="module")
def tls_uri(certs: dict[str, Path]) -> Iterator[str]:
    server = ThreadedSandbox()
    server.server.ssl_context = server_context(str(certs["server"]))
    uri = server.start()
    yield uri
    server.stop()


def test_the_uri_says_tls_and_pymongo_connects_with_the_ca(
    tls_uri: str, certs: dict[str, Path]
) -> None:
    assert tls_uri.endswith("?replicaSet=rs0&tls=true")
    with MongoClient(f"{tls_uri}&tlsCAFile={certs['ca']}", serverSelectionTimeoutMS=5000) as c:
        c.test.tls.insert_one({"secure": True})
        assert c.test.tls.find_one({}, {"_id": 0}) == {"secure": True}
        with c.start_session() as s, s.start_transaction():
            c.test.tls.insert_one({"in_txn": True}, session=s)


async def test_async_pymongo_over_tls(tls_uri: str, certs: dict[str, Path]) -> None:
    client = AsyncMongoClient(f"{tls_uri}&tlsCAFile={certs['ca']}", serverSelectionTimeoutMS=5000)
    try:
        assert (await client.admin.command("ping"))["ok"] == 1.0
    finally:
        await client.close()


def test_a_client_trusting_another_ca_or_speaking_plain_is_refused(
    tls_uri: str, certs: dict[str, Path]
) -> None:
    wrong_ca = f"{tls_uri}&tlsCAFile={certs['other_ca']}"
    plain = tls_uri.replace("&tls=true", "")
    for uri in (wrong_ca, plain):
        with MongoClient(uri, serverSelectionTimeoutMS=1500) as c:
            with pytest.raises(ServerSelectionTimeoutError):
                c.admin.command("ping")


def _sandbox(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mongotx_sandbox", "--port", "0", "-v", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_command_line_tls_and_auth_never_print_a_password(certs: dict[str, Path]) -> None:
    """`mongotx-sandbox --tls … --user name:password`: the printed URI names the CA file;
    logins, wrong passwords, createUser and refusals happen; then neither the output nor the
    log (-v) holds any of the passwords."""
    root_pw, user_pw, wrong_pw = "Cli-Root-pw-61", "Cli-User-pw-62", "Cli-Wrong-pw-63"
    proc = _sandbox(
        "--tls",
        "--tls-cert-key-file",
        str(certs["server"]),
        "--tls-ca-file",
        str(certs["ca"]),
        "--user",
        f"boss:{root_pw}",
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        assert uri.endswith(f"&tls=true&tlsCAFile={certs['ca']}")
        creds = uri.replace("mongodb://", "mongodb://boss:{}@")
        with MongoClient(creds.format(root_pw), serverSelectionTimeoutMS=5000) as root:
            root.bank.command("createUser", "ann", pwd=user_pw, roles=["read"])
            root.bank.accounts.insert_one({"_id": 1})
        ann = uri.replace("mongodb://", f"mongodb://ann:{user_pw}@") + "&authSource=bank"
        with MongoClient(ann, serverSelectionTimeoutMS=5000) as c:
            assert c.bank.accounts.find_one() == {"_id": 1}
            with pytest.raises(OperationFailure):
                c.bank.command("createUser", "eve", pwd=wrong_pw, roles=["root"])
        with MongoClient(creds.format(wrong_pw), serverSelectionTimeoutMS=5000) as bad:
            with pytest.raises(OperationFailure) as info:
                bad.admin.command("ping")
            assert info.value.code == 18
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    output = uri + out + err
    assert "boss" in err  # the user is announced, without its password
    for password in (root_pw, user_pw, wrong_pw):
        assert password not in output


def test_tls_without_a_certificate_is_a_usage_error() -> None:
    proc = _sandbox("--tls")
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "--tls needs --tls-cert-key-file" in err


def test_a_user_without_a_password_is_a_usage_error() -> None:
    proc = _sandbox("--user", "boss")
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "expected name:password" in err

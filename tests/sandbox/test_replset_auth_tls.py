"""Issue 13: a three-member set with --auth and --tls: every member asks for the login and
speaks TLS, and the users are the same on each (users replicate, admin.system.users)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from pymongo import MongoClient, ReadPreference
from pymongo.errors import OperationFailure

from mongotx_sandbox import ThreadedSandbox
from mongotx_sandbox.auth import enforce
from mongotx_sandbox.tls import server_context


def test_every_member_of_an_auth_tls_set_needs_the_login(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_pem, ca_pem = tmp_path / "server.pem", tmp_path / "ca.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    sandbox = ThreadedSandbox(members=3)
    sandbox.server.state.auth = enforce([("admin", "secret")])
    sandbox.server.ssl_context = server_context(str(server_pem))
    uri = sandbox.start()
    try:
        assert uri.endswith("?replicaSet=rs0&tls=true") and uri.count(",") == 2
        login = uri.replace("mongodb://", "mongodb://admin:secret@", 1)
        with MongoClient(f"{login}&tlsCAFile={ca_pem}", serverSelectionTimeoutMS=30000) as c:
            c.test.c.insert_one({"_id": 1})
            secondary = c.test.get_collection("c", read_preference=ReadPreference.SECONDARY)
            assert secondary.find_one({"_id": 1}) == {"_id": 1}
        host = uri.split("//", 1)[1].split(",")[1]
        anonymous = f"mongodb://{host}/?directConnection=true&tls=true&tlsCAFile={ca_pem}"
        with MongoClient(anonymous, serverSelectionTimeoutMS=30000) as c:
            with pytest.raises(OperationFailure) as info:
                c.test.command("find", "c", readPreference={"mode": "secondary"})
            assert info.value.code == 13
    finally:
        sandbox.stop()

"""The Node.js driver logs in to an --auth sandbox with SCRAM-SHA-256 and SCRAM-SHA-1, and
meets 13 and 18 as it would on mongod (issue 13 item 4)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from .auth_helpers import ROOT_PASSWORD, ROOT_USER, logged_in, login_uri, start_auth_sandbox
from .test_other_drivers import NODE_DIR


def test_node_driver_scram_logins_and_refusals() -> None:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "mongodb").exists():
        pytest.skip("needs node and `npm install --prefix tests/sandbox/node` (.ci/run does it)")
    server = start_auth_sandbox()
    try:
        with logged_in(server.uri, ROOT_USER, ROOT_PASSWORD) as root:
            root.bank.command("createUser", "nodeuser", pwd="node-pw-77", roles=["read"])
            root.bank.accounts.insert_one({"_id": "ann"})
        good = login_uri(server.uri, "nodeuser", "node-pw-77", authSource="bank")
        wrong = login_uri(server.uri, "nodeuser", "not-node-pw", authSource="bank")
        result = subprocess.run(
            [node, str(NODE_DIR / "scram.js"), good, wrong],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    for mechanism in ("sha256", "sha1", "negotiated"):
        assert seen[mechanism]["users"] == [{"user": "nodeuser", "db": "bank"}], mechanism
        assert seen[mechanism]["doc"] == {"_id": "ann"}
        assert seen[mechanism]["refused"] == {"code": 13, "codeName": "Unauthorized"}
    assert seen["wrong"]["error"]["code"] == 18
    assert seen["wrong"]["error"]["codeName"] == "AuthenticationFailed"
    assert "not-node-pw" not in seen["wrong"]["error"]["message"]

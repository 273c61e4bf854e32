"""Drivers other than pymongo: the Node.js driver runs a write conflict against the sandbox."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).parent / "node"


def test_node_driver_write_conflict(uri: str) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "mongodb").exists():
        pytest.skip("needs node and `npm install --prefix tests/sandbox/node` (.ci/run does it)")
    result = subprocess.run(
        [node, str(NODE_DIR / "transaction.js"), uri], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["conflict"]["code"] == 112
    assert seen["conflict"]["codeName"] == "WriteConflict"
    assert "TransientTransactionError" in seen["conflict"]["labels"]
    assert seen["docs"] == [{"_id": 1, "balance": 90}, {"_id": 2, "balance": 50}]
    assert seen["setName"] == "rs0"


def test_node_driver_discovers_a_three_member_set_and_follows_failovers() -> None:
    """Issue 13: the Node.js driver streams hello (exhaust) from each member, reads from a
    secondary, and writes on the new primary after a step-down and after a kill."""
    from mongotx_sandbox import ThreadedSandbox

    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "mongodb").exists():
        pytest.skip("needs node and `npm install --prefix tests/sandbox/node` (.ci/run does it)")
    with ThreadedSandbox(members=3, election_timeout_ms=300) as uri:
        result = subprocess.run(
            [node, str(NODE_DIR / "replset.js"), uri], capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(seen["hosts"]) == 3
    assert len(set(seen["primaries"])) == 3  # member 0, then the heir, then a third one
    assert seen["fromSecondary"] == {"_id": 1}
    assert seen["docs"] == [{"_id": 1}, {"_id": 2}, {"_id": 3}]

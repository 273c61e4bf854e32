"""`mongotx-sandbox --sharded [--shards N]` (issue 15 item 1): prints the router's URI; the
catalog lists N shards. The Node.js driver's handshake and a transaction through it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pymongo import MongoClient

from .sharded import split_at

NODE_DIR = Path(__file__).parent / "node"


def test_sharded_flag_prints_the_routers_uri() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mongotx_sandbox", "--sharded", "--shards", "3", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        assert uri.startswith("mongodb://127.0.0.1:") and "replicaSet" not in uri, uri
        with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
            assert client.admin.command("hello")["msg"] == "isdbgrid"
            shards = client.admin.command("listShards")["shards"]
            assert [s["_id"] for s in shards] == ["shard0", "shard1", "shard2"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_sharded_and_standalone_exclude_each_other() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mongotx_sandbox", "--sharded", "--standalone"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "--sharded and --standalone" in proc.stderr


def test_node_driver_through_the_router() -> None:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "mongodb").exists():
        pytest.skip("needs node and `npm install --prefix tests/sandbox/node` (.ci/run does it)")
    from mongotx_sandbox import ThreadedShardedSandbox

    with ThreadedShardedSandbox() as uri:
        with MongoClient(uri) as router:
            split_at(router, "node.accounts", {"_id": 2}, "shard1")
        result = subprocess.run(
            [node, str(NODE_DIR / "transaction.js"), uri],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # Account 1 on shard0, account 2 on shard1: the conflict and the commit go through
    # the router; the driver saw a mongos (no setName).
    assert seen["conflict"]["code"] == 112
    assert "TransientTransactionError" in seen["conflict"]["labels"]
    assert seen["docs"] == [{"_id": 1, "balance": 90}, {"_id": 2, "balance": 50}]
    assert "setName" not in seen

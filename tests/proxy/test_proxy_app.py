"""The sample application through the proxy (pymongo sync and async, Node.js): what the
records show, and discovery staying on the proxy."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pymongo import MongoClient

from mongotx_tui.backend.proxy import ProxyHandle
from mongotx_tui.backend.proxy.collect import Collector
from mongotx_tui.model.proxy_records import ProxyRecord

from .sample_app import run_async, run_sync

NODE_DIR = Path(__file__).parents[1] / "sandbox" / "node"


def _statements(records: list[ProxyRecord], app: str) -> list[ProxyRecord]:
    return [r for r in records if r.app_name == app and r.name.lower() not in ("hello", "ismaster")]


def _check(records: list[ProxyRecord], app: str, coll: str) -> None:
    mine = _statements(records, app)
    assert all(not r.pending for r in mine)
    updates = [r for r in mine if r.name == "update" and r.command.get("update") == coll]
    # Two conflicting transactions: the second writer's update fails with 112 in its txn.
    first, second = updates[0], updates[1]
    assert first.command.get("startTransaction") and second.command.get("startTransaction")
    assert first.lsid != second.lsid
    assert first.ok and second.reply is not None and second.reply["code"] == 112
    assert "TransientTransactionError" in second.reply["errorLabels"]
    commits = [r for r in mine if r.name == "commitTransaction" and r.lsid == first.lsid]
    assert commits and commits[0].ok
    # The retryable write: the same statement twice, the second an attempt 2 that succeeded.
    inserts = [r for r in mine if r.name == "insert" and r.command["documents"][0]["_id"] == 3]
    assert [r.attempt for r in inserts] == [1, 2]
    assert inserts[0].reply["code"] == 91 and inserts[1].ok
    assert inserts[0].step_id == inserts[1].step_id
    assert inserts[0].txn_number == inserts[1].txn_number
    # with_transaction: its session's txn 1 conflicts, its txn 2 commits.
    retried = [r for r in updates if r.command["updates"][0]["u"] == {"$inc": {"balance": 100}}]
    assert [r.txn_number for r in retried] == [1, 2]
    assert retried[0].reply["code"] == 112 and retried[1].ok
    assert len({r.lsid for r in retried}) == 1
    # Every statement came on the proxy's connections, with the application's name.
    assert {r.app_name for r in mine} == {app}


def _expected(seen: dict) -> None:
    assert seen["conflict"] == (112, True)
    assert seen["attempts"] == 2
    assert seen["docs"] == [
        {"_id": 1, "balance": 90},
        {"_id": 2, "balance": 151},
        {"_id": 3, "balance": 7},
    ]


def test_sync_application(proxy: ProxyHandle, collector: Collector) -> None:
    _expected(run_sync(proxy.app_uri()))
    proxy.flush()  # observers are told on the proxy's observation thread
    _check(collector.records(), "sample-sync", "accounts")


async def test_async_application(proxy: ProxyHandle, collector: Collector) -> None:
    _expected(await run_async(proxy.app_uri()))
    proxy.flush()
    _check(collector.records(), "sample-async", "accounts_async")


def test_replica_set_discovery_stays_on_the_proxy(proxy: ProxyHandle, sandbox) -> None:  # type: ignore[no-untyped-def]
    upstream = sandbox.uri.split("//")[1].split("/")[0]
    client: MongoClient = MongoClient(proxy.app_uri(), serverSelectionTimeoutMS=10_000)
    try:
        hello = client.admin.command("hello")
        client.test.discovery.insert_one({})
        assert hello["setName"] == "rs0"
        assert hello["hosts"] == [proxy.address] and hello["me"] == proxy.address
        assert hello["primary"] == proxy.address
        assert {f"{h}:{p}" for h, p in client.nodes} == {proxy.address}
        assert upstream not in str(client.topology_description)
    finally:
        client.close()


def test_direct_connection(proxy: ProxyHandle, collector: Collector) -> None:
    client: MongoClient = MongoClient(proxy.app_uri(direct=True), serverSelectionTimeoutMS=10_000)
    try:
        client.test.direct.insert_one({"_id": 1})
        assert client.test.direct.find_one() == {"_id": 1}
    finally:
        client.close()
    proxy.flush()
    assert any(r.name == "find" and r.ok for r in collector.records())


def test_node_driver_through_the_proxy(proxy: ProxyHandle, collector: Collector) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "mongodb").exists():
        pytest.skip("needs node and `npm install --prefix tests/sandbox/node` (.ci/run does it)")
    result = subprocess.run(
        [node, str(NODE_DIR / "transaction.js"), proxy.app_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["conflict"]["code"] == 112
    proxy.flush()
    records = collector.records()
    conflict = [r for r in records if r.name == "update" and r.reply and r.reply.get("code") == 112]
    assert len(conflict) == 1 and conflict[0].command.get("autocommit") is False
    assert all(r.peer.startswith("127.0.0.1:") for r in records)

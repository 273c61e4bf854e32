"""A capture of the sample application replays on a fresh sandbox with the same outcomes;
a replay whose outcome differs says at which step."""

from __future__ import annotations

import asyncio
import threading
import time

from pymongo import MongoClient

from mongotx_tui.backend.headless import run_scenario
from mongotx_tui.backend.proxy import ProxyHandle
from mongotx_tui.backend.proxy.collect import Collector
from mongotx_tui.backend.proxy.fetch import fetch_setup
from mongotx_tui.scenario.capture import capture_data
from mongotx_tui.scenario.loader import parse_scenario
from mongotx_tui.scenario.save import dump

from .conftest import wait_until
from .sample_app import run_sync


def _replay(text: str):  # type: ignore[no-untyped-def]
    return asyncio.run(run_scenario(parse_scenario(text, "capture.yaml")))


def test_capture_replays_on_a_fresh_sandbox(proxy: ProxyHandle, collector: Collector) -> None:
    run_sync(proxy.app_uri())
    proxy.flush()  # observers are told on the proxy's observation thread
    data = capture_data(collector.records(), name="sample")
    actions = [(s.get("session"), s["action"]) for s in data["steps"]]
    assert actions.count(("S1", "startTransaction")) == 1
    errors = [s for s in data["steps"] if "error" in s]
    assert [e["error"]["code"] for e in errors] == [112, 112]
    retried = [s for s in data["steps"] if "2 times" in s.get("note", "")]
    assert [s["action"] for s in retried] == ["insert"]
    record = _replay(dump(data))
    assert record.passed, [(s.index, s.reason) for s in record.steps if not s.match]
    assert len(record.steps) == len(data["steps"])


def test_a_replay_that_differs_names_the_step(proxy: ProxyHandle, collector: Collector) -> None:
    run_sync(proxy.app_uri())
    proxy.flush()  # observers are told on the proxy's observation thread
    data = capture_data(collector.records(), name="sample")
    # The application's second writer did not conflict this time: its expectation differs.
    index = next(i for i, s in enumerate(data["steps"]) if "error" in s)
    del data["steps"][index]["error"]
    record = _replay(dump(data))
    assert not record.passed
    assert [s.index for s in record.steps if not s.match] == [index + 1]
    assert "112" in record.steps[index].reason or "WriteConflict" in record.steps[index].outcome


def test_a_statement_that_waited_blocks_until_its_release(
    proxy: ProxyHandle, collector: Collector
) -> None:
    """A createIndexes that waits for an open transaction (the server's DDL lock) is
    captured as blocking until the commit that let it go, and replays so."""
    client: MongoClient = MongoClient(proxy.app_uri(), serverSelectionTimeoutMS=10_000)
    try:
        coll = client.ddl.accounts
        coll.drop()
        coll.insert_one({"_id": 1, "balance": 1})
        a = client.start_session()
        a.start_transaction()
        coll.update_one({"_id": 1}, {"$inc": {"balance": 1}}, session=a)
        ddl = threading.Thread(target=lambda: coll.create_index("balance"))
        ddl.start()
        wait_until(lambda: any(r.name == "createIndexes" for r in collector.records()))
        # The index build waits for the transaction: let a blocking span be seen, then commit.
        wait_until(
            lambda: (
                time.time() - next(r.at for r in collector.records() if r.name == "createIndexes")
                > 0.3
            )
        )
        a.commit_transaction()
        ddl.join(timeout=30)
        a.end_session()
    finally:
        client.close()
    proxy.flush()
    data = capture_data(collector.records(), name="ddl")
    steps = data["steps"]
    waiting = next(i for i, s in enumerate(steps) if "createIndexes" in str(s.get("command")))
    commit = next(i for i, s in enumerate(steps) if s["action"] == "commit")
    assert steps[waiting]["blocks_until"] == commit + 1
    record = _replay(dump(data))
    assert record.passed, [(s.index, s.reason) for s in record.steps if not s.match]
    assert record.steps[waiting].blocked


def test_setup_from_replies_and_fetched(sandbox, proxy: ProxyHandle, collector: Collector) -> None:  # type: ignore[no-untyped-def]
    direct: MongoClient = MongoClient(sandbox.uri)
    direct.shop.items.drop()
    direct.shop.items.insert_many([{"_id": i, "qty": i} for i in range(5)])
    client: MongoClient = MongoClient(proxy.app_uri(), serverSelectionTimeoutMS=10_000)
    try:
        items = client.shop.items
        assert items.find_one({"_id": 1}) == {"_id": 1, "qty": 1}
        items.update_one({"_id": 2}, {"$inc": {"qty": 10}})
        items.insert_one({"_id": 9, "qty": 9})
    finally:
        client.close()
    proxy.flush()
    records = collector.records()
    seen = capture_data(records)["setup"]
    assert seen["database"] == "shop" and seen["documents"] == [{"_id": 1, "qty": 1}]
    fetched, skipped = fetch_setup(sandbox.uri, records)
    assert skipped == 0
    # What the statements touched, as it is now; the capture's own insert is left to its step.
    assert sorted(d["_id"] for d in fetched["items"]) == [1, 2]
    data = capture_data(records, setup_documents=fetched)
    assert {"_id": 2, "qty": 12} in data["setup"]["documents"]
    direct.close()

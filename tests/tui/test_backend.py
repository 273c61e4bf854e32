"""Backend against the sandbox with real pymongo: sessions, errors, paging, masking."""

from __future__ import annotations

import asyncio

import pytest

from mongotx_tui.backend.connection import BadURI, client_options, mask_uri, scrub
from mongotx_tui.backend.watchers import load_page
from mongotx_tui.backend.workbench import Workbench
from mongotx_tui.model.lanes import OpStatus, TxnState
from mongotx_tui.model.ops import OpSpec


def test_mask_uri_and_scrub():
    uri = "mongodb://ann:s3cr%40t@db.example:27017/?replicaSet=rs0&authSource=admin"
    assert mask_uri(uri) == "mongodb://ann:****@db.example:27017/?replicaSet=rs0&authSource=admin"
    assert "s3cr" not in scrub(f"failed for {uri} with password s3cr@t", uri)
    assert mask_uri("mongodb+srv://bob@x.example/") == "mongodb+srv://bob@x.example/"


def test_bad_uri_and_direct_connection():
    with pytest.raises(BadURI) as info:
        client_options("http://nope")
    assert "mongodb://" in str(info.value)
    with pytest.raises(BadURI) as info:
        client_options("mongodb://ann:topsecret@host:notaport/")
    assert "topsecret" not in str(info.value)
    assert client_options("mongodb://h:1/")["directConnection"] is True
    assert "directConnection" not in client_options("mongodb://h:1/?replicaSet=rs0")
    assert "directConnection" not in client_options("mongodb://h:1,h:2/")


async def test_workbench_conflict_and_commit_without_ui():
    wb = Workbench()
    try:
        await wb.connect()
        assert wb.deployment is not None and wb.deployment.topology == "replica set"
        assert wb.deployment.set_name == "rs0" and wb.deployment.sandbox
        a, b = wb.lanes
        update = OpSpec.new("update", filter="{_id: 'alice'}", update="{$inc: {balance: -10}}")
        await wb.start_transaction(a.id)
        await wb.start_transaction(b.id)
        assert a.txn_state is TxnState.STARTING
        wb.enqueue(a.id, update)
        wb.enqueue(b.id, update.copy())
        await wb.step(a.id)
        assert a.queue[0].status is OpStatus.DONE and a.txn_state is TxnState.IN_PROGRESS
        # pooled server sessions keep their counter (the seed insert used one): >= 1
        assert a.txn_number is not None and a.txn_number >= 1 and len(a.lsid) == 32
        await wb.step(b.id)
        assert b.queue[0].error is not None and b.queue[0].error.code == 112
        outcome, err = await wb.commit(a.id)
        assert (outcome, err) == ("committed", None)
        page = await wb.refresh_committed(0)
        assert {d["_id"]: d["balance"] for d in page.docs} == {"alice": 90, "bob": 50}
        outcome, err = await wb.commit(b.id)
        assert err is not None and err.code == 251
    finally:
        await wb.close()


async def test_empty_commit_sends_nothing_and_abort_twice_is_a_client_error():
    wb = Workbench()
    try:
        await wb.connect()
        a = wb.lanes[0]
        await wb.start_transaction(a.id)
        outcome, err = await wb.commit(a.id)
        assert err is None and "empty" in outcome
        await wb.start_transaction(a.id)
        await wb.abort(a.id)
        outcome, err = await wb.abort(a.id)
        assert err is not None and err.client_side and "twice" in err.message
    finally:
        await wb.close()


async def test_paging_never_loads_everything():
    wb = Workbench()
    try:
        await wb.connect()
        coll = wb.client.bank.big
        await coll.insert_many([{"_id": i, "v": i} for i in range(1000)])
        page = await load_page(wb.client, "bank", "big", number=3, size=100)
        assert [d["_id"] for d in page.docs] == list(range(300, 400))
        assert page.total == 1000
    finally:
        await wb.close()


async def test_change_stream_pushes_commits():
    wb = Workbench()
    seen: list[str] = []
    try:
        await wb.connect()
        wb.notify = lambda kind, lane_id: seen.append(kind)
        task = asyncio.get_running_loop().create_task(wb.watch())
        for _ in range(100):
            if wb.watch_mode:
                break
            await asyncio.sleep(0.01)
        assert wb.watch_mode == "change stream"
        await wb.client.bank.accounts.update_one({"_id": "bob"}, {"$inc": {"balance": 1}})
        for _ in range(200):
            if any(d.get("balance") == 51 for d in wb.page.docs):
                break
            await asyncio.sleep(0.01)
        assert any(d["_id"] == "bob" and d["balance"] == 51 for d in wb.page.docs)
        task.cancel()
    finally:
        await wb.close()


async def test_watcher_keeps_pushing_after_the_collection_is_dropped():
    """A drop invalidates the change stream; the watcher starts a new one after it instead of
    silently falling back to polling."""
    from pymongo import AsyncMongoClient

    from mongotx_sandbox import SandboxServer
    from mongotx_tui.backend.watchers import watch_changes

    async with SandboxServer() as uri:
        client = AsyncMongoClient(uri)
        coll = client.bank.watched
        await coll.insert_one({"_id": 1})
        seen: list[str] = []
        modes: list[str] = []
        task = asyncio.create_task(
            watch_changes(
                client, "bank", "watched", lambda c: seen.append(c["operationType"]), modes.append
            )
        )
        try:
            for _ in range(100):
                if modes:
                    break
                await asyncio.sleep(0.02)
            await coll.insert_one({"_id": 2})
            await coll.drop()
            await asyncio.sleep(0.3)
            await coll.insert_one({"_id": 3})
            for _ in range(100):
                if seen.count("insert") == 2:
                    break
                await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await client.close()
    assert seen == ["insert", "drop", "invalidate", "insert"]
    assert all(mode == "change stream" for mode in modes)


async def test_find_one_and_update_and_replace_return_the_chosen_version():
    from mongotx_tui.backend.operations import execute

    wb = Workbench()
    try:
        await wb.connect()
        db = wb.client[wb.db]
        update = OpSpec.new(
            "findOneAndUpdate", filter="{_id: 'bob'}", update="{$inc: {balance: 1}}", after="true"
        )
        result, _ = await execute(db, update, None)
        assert result == {"_id": "bob", "name": "Bob", "balance": 51}  # after the update
        replace = OpSpec.new(
            "findOneAndReplace", filter="{_id: 'bob'}", replacement="{name: 'Robert'}"
        )
        result, _ = await execute(db, replace, None)
        assert result["balance"] == 51  # the document before the replacement
        assert await db.accounts.find_one({"_id": "bob"}) == {"_id": "bob", "name": "Robert"}
    finally:
        await wb.close()


async def test_a_loaded_scenario_comes_with_its_committed_page():
    """When the play is announced, the page is the scenario's, not the collection's before
    it: the lanes and the committed panel show the same workbench (a walkthrough that went
    on at the new play used to find alice and bob beside the scenario's lanes)."""
    from mongotx_tui.scenario.loader import load_scenario

    wb = Workbench()
    try:
        await wb.connect()
        await wb.refresh_committed(0, count_now=True)
        wb.watch_mode = "change stream"  # as the watcher of the demo collection had set it
        assert [d["_id"] for d in wb.page.docs] == ["alice", "bob"]
        scenario, _ = await wb.plan_scenario(load_scenario("write-conflict"), False)
        await wb.load_scenario(scenario)
        assert [d["_id"] for d in wb.page.docs] == [1, 2] and wb.page.total == 2
        assert wb.watch_mode == ""  # no watcher of this collection has reported yet
    finally:
        await wb.close()


async def test_close_ends_every_background_task():
    """The lifetime watch of an open transaction, a count, a refresh: none outlives close()."""
    wb = Workbench()
    try:
        await wb.connect()
        a = wb.lanes[0]
        await wb.start_transaction(a.id)
        wb.enqueue(a.id, OpSpec.new("update", filter="{_id: 'alice'}", update="{$inc: {x: 1}}"))
        await wb.step(a.id)
        await wb.refresh_committed(0)  # starts the count task
        running = wb.tasks.running()
        assert running, "the lifetime watch should be running while the transaction is open"
    finally:
        await wb.close()
    assert all(t.done() for t in running) and len(wb.tasks) == 0

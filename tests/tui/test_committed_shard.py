"""The committed panel on a sharded cluster shows each document's shard (issue 15 item 4),
from the router's routing table (config.collections, config.chunks, config.databases):
alice on shard0 and bob on shard1, bob on shard0 once his chunk moves there, and an
unsharded collection's documents on the database's primary shard. On a replica set the
panel has no shard column. The real app, a sharded sandbox over sockets, a Pilot."""

from __future__ import annotations

from pymongo import MongoClient
from textual.widgets import DataTable
from tuihelpers import ready, until

from mongotx_tui.app import MongoTxApp
from mongotx_tui.config import Config


def rows(app: MongoTxApp) -> dict[str, str]:
    """_id → shard, as the panel shows them."""
    table = app.screen.query_one("#committed", DataTable)
    labels = [str(c.label) for c in table.columns.values()]
    if "shard" not in labels:
        return {}
    at = labels.index("shard")
    return {
        str(table.get_row_at(i)[0]): str(table.get_row_at(i)[at]) for i in range(table.row_count)
    }


async def test_each_document_shows_its_shard(router_uri: str) -> None:
    app = MongoTxApp(router_uri, "bank", config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await until(pilot, lambda: len(rows(app)) == 2, what="the shard column")
        assert rows(app) == {"'alice'": "shard0", "'bob'": "shard1"}
        # The chunk holding bob moves to shard0: the next read of the table says so.
        with MongoClient(router_uri) as client:
            client.admin.command("moveChunk", "bank.accounts", find={"_id": "b"}, to="shard0")
        await app.wb.refresh_committed()
        await until(pilot, lambda: rows(app).get("'bob'") == "shard0", what="bob moved")
        assert rows(app) == {"'alice'": "shard0", "'bob'": "shard0"}


async def test_an_unsharded_collection_is_on_the_primary_shard(router_uri: str) -> None:
    with MongoClient(router_uri) as client:
        client.admin.command("enableSharding", "shop", primaryShard="shard1")
        client.shop.items.insert_one({"_id": 1, "name": "pen"})
    app = MongoTxApp(router_uri, "shop", "items", config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await until(pilot, lambda: len(rows(app)) == 1, what="the shard column")
        assert rows(app) == {"1": "shard1"}


async def test_a_replica_set_has_no_shard_column() -> None:
    app = MongoTxApp(config=Config())  # the embedded one-member replica set
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await until(pilot, lambda: len(app.wb.page.docs) == 2, what="the seed")
        assert app.wb.page.shards == []
        assert rows(app) == {}


async def test_a_hashed_key_says_so(router_uri: str) -> None:
    """A hashed key's chunks are ranges of MongoDB's hash of the key, which the app does not
    compute: the column says `hashed` rather than guess a shard."""
    with MongoClient(router_uri) as client:
        client.admin.command("enableSharding", "shop", primaryShard="shard0")
        client.admin.command("shardCollection", "shop.items", key={"_id": "hashed"})
        client.shop.items.insert_one({"_id": 1, "name": "pen"})
    app = MongoTxApp(router_uri, "shop", "items", config=Config())
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(app, pilot)
        await until(pilot, lambda: len(rows(app)) == 1, what="the shard column")
        assert rows(app) == {"1": "hashed"}

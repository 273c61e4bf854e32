"""`mongotx-tui --sharded` (issue 15 item 1): the sharded sandbox it starts, with
bank.accounts split so that alice and bob are on different shards, and the deployment the
workbench probes there (the header's "sharded cluster")."""

from __future__ import annotations

from pymongo import AsyncMongoClient, MongoClient

from mongotx_tui.__main__ import parse_args
from mongotx_tui.backend.connection import probe, start_sharded_sandbox


def test_sharded_flag_is_parsed() -> None:
    assert parse_args(["--sharded"]).sharded
    assert not parse_args([]).sharded


async def test_sharded_sandbox_puts_alice_and_bob_on_two_shards() -> None:
    cluster, uri = start_sharded_sandbox()
    try:
        with (
            MongoClient(cluster.shard_uri("shard0")) as s0,
            MongoClient(cluster.shard_uri("shard1")) as s1,
        ):
            assert [d["_id"] for d in s0.bank.accounts.find()] == ["alice"]
            assert [d["_id"] for d in s1.bank.accounts.find()] == ["bob"]
        client: AsyncMongoClient = AsyncMongoClient(uri)
        try:
            deployment = await probe(client, uri, sandbox=False)
        finally:
            await client.close()
        assert deployment.topology == "sharded cluster"
        assert deployment.transactions_supported
    finally:
        cluster.stop()

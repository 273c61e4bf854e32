"""Fixtures' helpers for the sharded cluster tests: a cluster on its own thread, clients
to its router and to each shard's primary."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient

from mongotx_sandbox.sharding.cluster import ThreadedShardedSandbox


def start_cluster(shards: int = 2) -> ThreadedShardedSandbox:
    cluster = ThreadedShardedSandbox(shards=shards)
    cluster.start()
    return cluster


def shard_client(cluster: ThreadedShardedSandbox, name: str) -> MongoClient:
    return MongoClient(cluster.shard_uri(name), serverSelectionTimeoutMS=5000)


def split_at(router: MongoClient, ns: str, key: dict[str, Any], to: str) -> None:
    """Shard `ns` on _id, split at `key`, and move the upper chunk to shard `to`."""
    db = ns.partition(".")[0]
    router.admin.command("enableSharding", db, primaryShard="shard0")
    router.admin.command("shardCollection", ns, key={"_id": 1})
    router.admin.command("split", ns, middle=key)
    router.admin.command("moveChunk", ns, find=key, to=to)

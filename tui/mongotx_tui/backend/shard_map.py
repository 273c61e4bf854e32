"""The shard of each committed document on a sharded cluster: the router's routing table
(config.collections, config.chunks, config.databases, read through the router as mongosh's
sh.status() reads them), matched in model.shard_map. No textual."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.shard_map import routing_table

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient


async def shards_of_page(
    client: AsyncMongoClient[dict[str, Any]], db: str, coll: str, docs: list[dict[str, Any]]
) -> list[str]:
    """One shard name per document ("" where the table does not say); [] when the
    routing table cannot be read (the panel then shows no shard column)."""
    from pymongo.errors import PyMongoError

    ns = f"{db}.{coll}"
    config = client["config"]
    try:
        collections = await config["collections"].find({"_id": ns}).to_list(None)
        uuid = collections[0].get("uuid") if collections else None
        chunks = (
            await config["chunks"].find({"uuid": uuid}).sort("min", 1).to_list(None)
            if uuid is not None
            else []
        )
        databases = await config["databases"].find({"_id": db}).to_list(None)
    except PyMongoError:
        return []
    table = routing_table(ns, collections, chunks, databases)
    return [table.shard_of(doc) for doc in docs]

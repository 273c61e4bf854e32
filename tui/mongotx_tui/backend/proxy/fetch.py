"""`--fetch-setup`: the documents a capture's statements read or wrote, read from the
upstream when the capture is saved (finds only: nothing is written), as they are then."""

from __future__ import annotations

from typing import Any

from ...model.proxy_records import ProxyRecord
from ...scenario.capture_setup import inserted_ids, setup_queries
from ...scenario.capture_steps import id_key, plain, yamlable

PER_QUERY = 100  # documents per filter at most: a setup is a few documents, not a dump


def fetch_setup(uri: str, records: list[ProxyRecord]) -> tuple[dict[str, list[dict]], int]:
    """Per collection, the documents fetched; and how many plain YAML could not hold."""
    from pymongo import MongoClient

    database, queries = setup_queries(records)
    mine = inserted_ids(records, database)
    out: dict[str, list[dict[str, Any]]] = {}
    skipped = 0
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=10_000)
    try:
        db = client[database]
        for coll, filters in queries.items():
            docs: dict[str, dict[str, Any]] = {}
            for f in filters or [{}]:
                for d in db[coll].find(f, limit=PER_QUERY):
                    key = id_key(d.get("_id"))
                    if key in docs or (coll, key) in mine:
                        continue
                    if not yamlable(d):
                        skipped += 1
                        continue
                    docs[key] = plain(d)
            out[coll] = list(docs.values())
    finally:
        client.close()
    return out, skipped

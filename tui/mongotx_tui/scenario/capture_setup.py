"""The capture's setup: which statements are the application's, where they ran, and the
documents the setup holds — as the replies showed them, or what a read-only fetch from the
upstream asks for (backend/proxy/fetch.py runs it). Pure."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..model.monitor import SENSITIVE
from ..model.proxy_records import ProxyRecord
from .capture_steps import id_key, plain, yamlable

# The driver's own commands, not the application's statements.
DRIVER_ONLY = frozenset({"hello", "ismaster", "endsessions", "killcursors", "getmore", "ping"})


def statements(records: list[ProxyRecord]) -> list[ProxyRecord]:
    return [
        r
        for r in records
        if r.name.lower() not in DRIVER_ONLY
        and r.name.lower() not in SENSITIVE
        and not r.name.lower().startswith("sasl")
        and r.lsid
    ]


def where(statements: list[ProxyRecord]) -> tuple[str, str]:
    """The database most statements ran on, and its collection named first."""
    counts = Counter(r.database for r in statements if isinstance(r.command.get(r.name), str))
    database = counts.most_common(1)[0][0] if counts else "test"
    for r in statements:
        coll = r.command.get(r.name)
        if r.database == database and isinstance(coll, str):
            return database, coll
    return database, "test"


def seen_documents(
    records: list[ProxyRecord], database: str
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Per collection, each document as a reply first showed it (by _id), but those the
    capture's own inserts created; and how many plain YAML could not hold."""
    inserted: set[tuple[str, Any]] = set()
    seen: dict[str, dict[Any, dict[str, Any]]] = {}
    skipped = 0
    for r in records:
        coll = r.command.get(r.name)
        if r.database != database or not isinstance(coll, str):
            continue
        if r.name == "insert":
            for d in r.command.get("documents") or []:
                if isinstance(d, dict) and "_id" in d and yamlable(d["_id"]):
                    inserted.add((coll, id_key(d["_id"])))
        reply = r.reply or {}
        docs: list[Any] = []
        cursor = reply.get("cursor")
        if r.name in ("find", "aggregate") and isinstance(cursor, dict):
            docs = list(cursor.get("firstBatch") or [])
            if r.name == "aggregate":
                docs = [d for d in docs if isinstance(d, dict) and "_id" in d]
        elif r.name == "findAndModify" and isinstance(reply.get("value"), dict):
            if not r.command.get("new"):  # the document before the change
                docs = [reply["value"]]
        for d in docs:
            if not isinstance(d, dict) or "_id" not in d or not yamlable(d["_id"]):
                continue
            key = id_key(d["_id"])
            if (coll, key) in inserted or key in seen.setdefault(coll, {}):
                continue
            if r.command.get("projection") or r.command.get("fields"):
                continue  # not the whole document
            if not yamlable(d):
                skipped += 1
                continue
            seen[coll][key] = plain(d)
    return {c: list(v.values()) for c, v in seen.items() if v}, skipped


def setup_queries(records: list[ProxyRecord]) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """What a read-only fetch of the setup asks the upstream: the scenario's database and,
    per collection, the filters of the statements that read or wrote it."""
    mine = statements(records)
    database, default_coll = where(mine)
    queries: dict[str, list[dict[str, Any]]] = {default_coll: []}
    for r in mine:
        coll = r.command.get(r.name)
        if r.database != database or not isinstance(coll, str):
            continue
        cmd = r.command
        found: list[Any] = []
        if r.name in ("find", "count"):
            found = [cmd.get("filter", cmd.get("query", {}))]
        elif r.name == "distinct":
            found = [cmd.get("query", {})]
        elif r.name == "findAndModify":
            found = [cmd.get("query", {})]
        elif r.name == "update":
            found = [u.get("q", {}) for u in cmd.get("updates") or []]
        elif r.name == "delete":
            found = [d.get("q", {}) for d in cmd.get("deletes") or []]
        elif r.name == "aggregate":
            pipeline = cmd.get("pipeline") or []
            first = pipeline[0] if pipeline and isinstance(pipeline[0], dict) else {}
            found = [first.get("$match", {})]
        known = queries.setdefault(coll, [])
        for f in found:
            if isinstance(f, dict) and f not in known:
                known.append(f)
    return database, queries


def inserted_ids(records: list[ProxyRecord], database: str) -> set[tuple[str, Any]]:
    """(collection, _id) of the documents the capture's own inserts created."""
    out: set[tuple[str, Any]] = set()
    for r in statements(records):
        coll = r.command.get(r.name)
        if r.name == "insert" and r.database == database and isinstance(coll, str):
            for d in r.command.get("documents") or []:
                if isinstance(d, dict) and "_id" in d and yamlable(d["_id"]):
                    out.add((coll, id_key(d["_id"])))
    return out

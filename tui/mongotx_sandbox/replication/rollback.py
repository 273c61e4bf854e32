"""Rollback: undo the writes after a common point, as a member that diverged from the new
primary does when it rejoins [manual: "Rollbacks During Replica Set Failover"; srv:db/repl/
rollback_impl.cpp]. The members share one version store, so undoing is dropping the
versions committed after the common point."""

from __future__ import annotations

from typing import Any

from ..clock import int_to_ts
from ..store import Catalog
from .roles import utc


def truncate(catalog: Catalog, common: int) -> None:
    """Drop every document version and catalog change committed after `common`."""
    for (db, name), changes in list(catalog.history.items()):
        later = [c for c in changes if c[0] > common]
        if not later:
            continue
        before = later[0][1]  # what the name held before the first undone change
        colls = catalog.dbs.setdefault(db, {})
        if before is None:
            colls.pop(name, None)
        else:
            colls[name] = before
        if not colls:
            catalog.dbs.pop(db, None)
        kept = [c for c in changes if c[0] <= common]
        if kept:
            catalog.history[(db, name)] = kept
        else:
            del catalog.history[(db, name)]
    for colls in catalog.dbs.values():
        for coll in colls.values():
            _truncate_collection(coll, common)


def _truncate_collection(coll: Any, common: int) -> None:
    for key, chain in list(coll.chains.items()):
        if chain[-1].seq <= common:
            continue
        while chain and chain[-1].seq > common:
            chain.pop()
        if not chain:
            del coll.chains[key]
    coll.live = sum(1 for chain in coll.chains.values() if chain[-1].doc is not None)


def describe(entry: Any, member: str) -> dict[str, Any]:
    """A rolled-back write as the rolled-back list shows it, with the member that undid it
    (MongoDB writes a member's rollback files on that member: manual, "Rollbacks During
    Replica Set Failover", "Collect Rollback Data")."""
    return {
        "member": member,
        "ts": int_to_ts(entry.seq),
        "wall": utc(entry.wall),
        "op": entry.op,
        "ns": f"{entry.db}.{entry.coll}",
        "_id": entry.doc_id,
        "doc": entry.doc,
    }

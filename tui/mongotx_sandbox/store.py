"""Multi-version document store: a version chain per document, snapshots by commit time.

A transaction reads the newest version committed at or before its snapshot, plus its own
uncommitted writes; other readers see committed versions only. Uncommitted writes hold a
per-document lock (the WiredTiger update chain) that decides write-write conflicts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from bson.binary import Binary

from . import engine
from .index_keys import document_keys
from .wire import encode_document

# The most superseded versions may hold before the oldest timestamp moves forward faster
# than the history window asks (see History.advance).
HISTORY_BUDGET_BYTES = 32 * 1024 * 1024
# What one kept version costs beyond its BSON size (the Version, its queue entry, the dict).
_VERSION_OVERHEAD = 256


class LockHolder(Protocol):
    """Who holds a document's uncommitted write: a transaction (transactions.py). The store
    names only what readers and waiters use, so it imports nothing above itself."""

    ended: asyncio.Event  # set when the holder commits or aborts: waiters retry then

    def write_set(self, coll: Collection) -> dict[Hashable, dict[str, Any] | None] | None: ...


@dataclass(slots=True)
class Version:
    """One version of a document: the commit sequence that wrote it, and the document."""

    seq: int
    doc: dict[str, Any] | None  # None: deleted at `seq`


@dataclass(slots=True)
class _Superseded:
    """A version replaced at `seq`: a read at an earlier timestamp may still need it."""

    seq: int
    size: int
    coll: Collection
    key: Hashable
    chain: list[Version]


class History:
    """Which old versions the store keeps, and the oldest timestamp a read may ask for.

    MongoDB sets WiredTiger's oldest timestamp minSnapshotHistoryWindowInSeconds behind the
    stable timestamp, never moving it back (src/mongo/db/storage/wiredtiger/
    wiredtiger_kv_engine.cpp setOldestTimestampFromStable,
    _calculateHistoryLagFromStableTimestamp); a read below it fails with 239 SnapshotTooOld,
    and an open transaction's read timestamp pins what it reads (WiredTiger's pinned
    timestamp). So a version is dropped once its successor committed at or before both.
    MongoDB spills that history to disk (the history store, WiredTigerHS.wt); the sandbox
    has only memory, so past HISTORY_BUDGET_BYTES it shrinks the window instead, as MongoDB
    4.2 did under cache pressure (src/mongo/db/snapshot_window_util.cpp
    decreaseTargetSnapshotWindowSize): the oldest timestamp moves forward, never past an
    open snapshot, and a read before it answers SnapshotTooOld as in MongoDB.
    """

    def __init__(self, budget: int = HISTORY_BUDGET_BYTES) -> None:
        self.oldest = 0  # the oldest timestamp
        self.bytes = 0  # what the superseded versions cost, roughly
        self.budget = budget
        self._queue: deque[_Superseded] = deque()  # in commit order

    def superseded(self, coll: Collection, key: Hashable, chain: list[Version], seq: int) -> None:
        """The newest version but one of `chain` was replaced at `seq`."""
        old = chain[-2].doc
        size = _VERSION_OVERHEAD + (len(encode_document(old)) if old is not None else 0)
        self._queue.append(_Superseded(seq, size, coll, key, chain))
        self.bytes += size

    def advance(self, oldest: int, pinned: int) -> None:
        """Move the oldest timestamp up to `oldest` (never back) and drop the versions no
        read can need any more; `pinned` is the oldest open snapshot."""
        self.oldest = max(self.oldest, oldest)
        queue = self._queue
        while queue:
            head = queue[0]
            if head.seq > pinned:
                break
            if head.seq > self.oldest:
                if self.bytes <= self.budget:
                    break
                self.oldest = head.seq  # over budget: the window shrinks
            queue.popleft()
            self.bytes -= head.size
            head.coll.trim(head.key, head.chain, min(self.oldest, pinned))


@dataclass
class Index:
    """A secondary index's definition, and for a unique one who last wrote each key."""

    name: str
    key: dict[str, Any]
    unique: bool = False
    sparse: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    # A unique key's writers, as WiredTiger sees them: the open transaction that added the
    # key, and the commit time of the last committed write that added it (see key_conflict).
    holders: dict[Hashable, LockHolder] = field(default_factory=dict, compare=False, repr=False)
    written: dict[Hashable, int] = field(default_factory=dict, compare=False, repr=False)
    _written_limit: int = field(default=1024, compare=False, repr=False)

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": 2, "key": dict(self.key), "name": self.name}
        if self.unique and self.name != "_id_":
            out["unique"] = True
        if self.sparse:
            out["sparse"] = True
        out.update(self.options)
        return out

    def keys(self, doc: dict[str, Any]) -> dict[Hashable, tuple[Any, ...]]:
        """The keys `doc` gives this index (canonical key → its values; none when a sparse
        or partial index skips it, several for an array: index_keys.document_keys)."""
        partial = self.options.get("partialFilterExpression")
        # A partial index holds only the documents its filter matches, and a unique one
        # constrains only those (manual: "Partial Indexes", unique constraint section).
        if partial is not None and not engine.matches(partial, doc):
            return {}
        collation = self.options.get("collation")
        if isinstance(collation, dict) and collation.get("locale") == "simple":
            collation = None
        return document_keys(list(self.key), doc, sparse=self.sparse, collation=collation)

    def key_conflict(
        self, entry: Hashable, holder: LockHolder | None, snapshot: int | None
    ) -> bool:
        """Whether adding `entry` is a write conflict for `holder`'s transaction (None: a write
        outside one) reading at `snapshot`.

        Adding a key to a unique index first writes the bare key (the "prefix key") and
        removes it again, a write that clashes with every writer of the same key whose
        transaction overlaps this one (server: db/storage/wiredtiger/wiredtiger_index.cpp,
        WiredTigerIndexUnique::_insert): one that added it and is still open, or committed
        after `snapshot`, makes the write fail as a document written by either would.
        Removing a key deletes only the key with its RecordId (_unindex there): a delete
        alone conflicts with no one.
        """
        other = self.holders.get(entry)
        if other is not None and other is not holder:
            return True
        return snapshot is not None and self.written.get(entry, 0) > snapshot

    def note_written(self, entry: Hashable, seq: int, oldest: int) -> None:
        """`entry` was added by a write committed at `seq`; forget what no open snapshot
        (the oldest is `oldest`) can still conflict with."""
        self.written[entry] = seq
        if len(self.written) > self._written_limit:
            self.written = {k: s for k, s in self.written.items() if s > oldest}
            self._written_limit = max(1024, 2 * len(self.written))


_MISSING = object()


def path_value(doc: Any, path: str) -> Any:
    """The value at a dotted path, None when absent (how index keys treat a missing field)."""
    value = lookup_path(doc, path)
    return None if value is _MISSING else value


def lookup_path(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            return _MISSING
    return doc


class Collection:
    """One namespace: version chains keyed by the canonical `_id`, indexes, locks."""

    def __init__(self, db: str, name: str, options: dict[str, Any] | None = None) -> None:
        self.db = db
        self.name = name
        self.options = dict(options or {})
        self.uuid = Binary(uuid.uuid4().bytes, 4)
        self.chains: dict[Hashable, list[Version]] = {}
        self.indexes: dict[str, Index] = {"_id_": Index("_id_", {"_id": 1}, unique=True)}
        # Uncommitted writes: canonical _id -> the transaction holding it.
        self.locks: dict[Hashable, LockHolder] = {}
        self.live = 0  # documents in the latest committed state
        # The commit time of its last catalog change (an index built or dropped, collMod): a
        # transaction reading at an older point-in-time may not write to it
        # [srv:db/shard_role.cpp verifyDbAndCollection, getMinimumValidSnapshot].
        self.min_valid = 0

    @property
    def is_view(self) -> bool:
        return "viewOn" in self.options

    @property
    def ns(self) -> str:
        return f"{self.db}.{self.name}"

    def committed(self, key: Hashable, snapshot: int | None) -> dict[str, Any] | None:
        chain = self.chains.get(key)
        if not chain:
            return None
        if snapshot is None:
            return chain[-1].doc
        for version in reversed(chain):
            if version.seq <= snapshot:
                return version.doc
        return None

    def latest_seq(self, key: Hashable) -> int:
        chain = self.chains.get(key)
        return chain[-1].seq if chain else 0

    def append(self, key: Hashable, seq: int, doc: dict[str, Any] | None, history: History) -> None:
        """Add a committed version; the one it replaces goes to `history` to be dropped once
        no read can need it (History.advance)."""
        chain = self.chains.get(key)
        was_live = chain is not None and chain[-1].doc is not None
        self.live += (doc is not None) - was_live
        if chain is None:
            if doc is None:
                return
            self.chains[key] = [Version(seq, doc)]
            return
        chain.append(Version(seq, doc))
        history.superseded(self, key, chain, seq)

    def trim(self, key: Hashable, chain: list[Version], horizon: int) -> None:
        """Drop the versions of `chain` replaced at or before `horizon`, and the chain itself
        once all it holds is a deletion that old."""
        drop = 0
        while drop + 1 < len(chain) and chain[drop + 1].seq <= horizon:
            drop += 1
        if drop:
            del chain[:drop]
        if len(chain) == 1 and chain[0].doc is None and chain[0].seq <= horizon:
            if self.chains.get(key) is chain:
                del self.chains[key]

    def iter_committed(self, snapshot: int | None) -> Iterator[tuple[Hashable, dict[str, Any]]]:
        if snapshot is None:
            for key, chain in self.chains.items():
                doc = chain[-1].doc
                if doc is not None:
                    yield key, doc
            return
        for key, chain in self.chains.items():
            if chain[-1].seq <= snapshot:
                doc = chain[-1].doc
            else:
                doc = None
                for version in reversed(chain):
                    if version.seq <= snapshot:
                        doc = version.doc
                        break
            if doc is not None:
                yield key, doc

    def count_committed(self) -> int:
        return self.live


class Catalog:
    """Databases and their collections (committed ones; a transaction keeps its own new ones).

    The catalog is part of a snapshot: a transaction resolves a name to the collection it
    named at its snapshot (the server's point-in-time catalog lookups,
    [srv:db/catalog/collection_catalog.cpp establishConsistentCollection]). `history` keeps,
    per namespace changed within the snapshot history (the oldest open snapshot and the
    history window, as for documents), what it named before each change.
    """

    def __init__(self) -> None:
        self.dbs: dict[str, dict[str, Collection]] = {}
        # (db, name) -> [(commit time of a change, the collection named before it, wall
        # time)], in order.
        self.history: dict[tuple[str, str], list[tuple[int, Collection | None, float]]] = {}
        self.version_history = History()  # old document versions (History)

    def get(self, db: str, name: str) -> Collection | None:
        return self.dbs.get(db, {}).get(name)

    def at(self, db: str, name: str, snapshot: int | None) -> Collection | None:
        """The collection `db.name` named at `snapshot` (None: the latest)."""
        changes = self.history.get((db, name))
        if snapshot is not None and changes and changes[-1][0] > snapshot:
            for seq, before, _wall in changes:
                if seq > snapshot:
                    return before
        return self.get(db, name)

    def changed_since(self, db: str, name: str, snapshot: int) -> bool:
        """Whether `db.name` was created, dropped or renamed after `snapshot`."""
        changes = self.history.get((db, name))
        return bool(changes) and changes[-1][0] > snapshot

    def note(self, db: str, name: str, seq: int, oldest: int) -> None:
        """`db.name` changes at `seq` (call before the change); forget what no snapshot can
        still resolve: older than the oldest open one (`oldest`) and the history window."""
        now = time.time()
        # What the documents' history keeps (History.advance): past the oldest timestamp
        # and the oldest open snapshot, no read can resolve the name.
        horizon = min(oldest, self.version_history.oldest)
        for key in list(self.history):
            kept = [c for c in self.history[key] if c[0] > horizon]
            if kept:
                self.history[key] = kept
            else:
                del self.history[key]
        self.history.setdefault((db, name), []).append((seq, self.get(db, name), now))

    def add(self, coll: Collection, seq: int = 0, oldest: int = 0) -> None:
        if seq:
            self.note(coll.db, coll.name, seq, oldest)
        self.dbs.setdefault(coll.db, {})[coll.name] = coll

    def create(
        self,
        db: str,
        name: str,
        options: dict[str, Any] | None = None,
        seq: int = 0,
        oldest: int = 0,
    ) -> Collection:
        coll = Collection(db, name, options)
        self.add(coll, seq, oldest)
        return coll

    def drop(self, db: str, name: str, seq: int = 0, oldest: int = 0) -> Collection | None:
        colls = self.dbs.get(db)
        if not colls or name not in colls:
            return None
        if seq:
            self.note(db, name, seq, oldest)
        coll = colls.pop(name)
        if not colls:
            del self.dbs[db]
        return coll

    def drop_db(self, db: str, seq: int = 0, oldest: int = 0) -> list[Collection]:
        if seq:
            for name in self.dbs.get(db, {}):
                self.note(db, name, seq, oldest)
        return list(self.dbs.pop(db, {}).values())

    def collections(self, db: str) -> list[Collection]:
        return list(self.dbs.get(db, {}).values())

"""The recorded history: each lane's transactions, what each statement read and wrote (as
the server's replies say), and one row per step for the diagram. Pure: the backend feeds it
(backend.history_feed) from the workbench's steps and from headless runs alike.

What a statement touched comes from its reply: the documents a find or findOne returned,
an insert's insertedId(s), the document a findOneAnd… returned, an upsertedId, and for an
update or delete with an `_id` filter, that `_id` when the reply counts it as matched. A
write whose documents the reply does not name is kept as `unnamed` (it cannot be placed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .literals import format_value

WRITE_CONFLICT = 112
NO_SUCH_TRANSACTION = 251
MAX_TXNS = 2000  # older transactions fall off the front
MAX_ROWS = 10_000  # and older rows (the timeline's own bound)

READS = frozenset({"find", "findOne", "aggregate"})
RMW = frozenset({"findOneAndUpdate", "findOneAndReplace", "findOneAndDelete"})
BY_FILTER = frozenset({"update", "updateMany", "replace", "delete", "deleteMany"})
DELETES = frozenset({"delete", "deleteMany", "findOneAndDelete"})


def doc_key(collection: str, _id: Any) -> str:
    """One document's identity across the history: `accounts/1`."""
    return f"{collection}/{format_value(_id)}"


@dataclass(frozen=True)
class Access:
    """What one statement read and wrote, as its reply (and the request) name it."""

    reads: tuple[tuple[str, dict[str, Any]], ...] = ()  # (key, the document returned)
    writes: tuple[str, ...] = ()
    deletes: tuple[str, ...] = ()  # of `writes`, those that removed the document
    predicate: tuple[str, str] | None = None  # (collection, filter) of a find
    matched: frozenset[str] = frozenset()  # the keys the predicate read returned
    unnamed: bool = False  # it wrote documents the reply does not name
    filter: dict[str, Any] | None = None  # a write's filter (for a refused write)
    collection: str = ""
    inserted: tuple[tuple[str, dict[str, Any]], ...] = ()  # (key, the document inserted)


def _ids_of(filt: Any) -> list[Any] | None:
    """The `_id`s an `_id: v` or `_id: {$in: [...]}` filter names, else None."""
    if not isinstance(filt, dict) or "_id" not in filt:
        return None
    value = filt["_id"]
    if isinstance(value, dict):
        if set(value) == {"$in"} and isinstance(value["$in"], list):
            return list(value["$in"])
        if set(value) == {"$eq"}:
            return [value["$eq"]]
        return None
    return [value]


def access_of(kind: str, collection: str, values: dict[str, Any], result: Any) -> Access:
    """A statement's reads and writes from its kind, its parsed fields and its reply."""
    if kind in READS:
        docs = result if isinstance(result, list) else [result] if result else []
        reads = tuple(
            (doc_key(collection, d["_id"]), d) for d in docs if isinstance(d, dict) and "_id" in d
        )
        predicate = None
        if kind == "find" and not values.get("limit"):
            predicate = (collection, format_value(values.get("filter") or {}))
        keys = frozenset(k for k, _ in reads)
        return Access(reads=reads, predicate=predicate, matched=keys, collection=collection)
    if kind == "insert" and isinstance(result, dict) and "insertedId" in result:
        key = doc_key(collection, result["insertedId"])
        doc = dict(values.get("document") or {}, _id=result["insertedId"])
        return Access(writes=(key,), collection=collection, inserted=((key, doc),))
    if kind == "insertMany" and isinstance(result, dict) and "insertedIds" in result:
        ids = result["insertedIds"]
        docs = values.get("documents") or []
        inserted = tuple(
            (doc_key(collection, i), dict(d, _id=i))
            for i, d in zip(ids, docs, strict=False)
            if isinstance(d, dict)
        )
        return Access(
            writes=tuple(doc_key(collection, i) for i in ids),
            collection=collection,
            inserted=inserted,
        )
    if kind in RMW:
        filt = values.get("filter")
        if not isinstance(result, dict) or "_id" not in result:
            return Access(filter=filt, collection=collection)
        key = doc_key(collection, result["_id"])
        deletes = (key,) if kind in DELETES else ()
        after = bool(values.get("after"))
        reads = () if after else ((key, result),)
        return Access(
            reads=reads, writes=(key,), deletes=deletes, filter=filt, collection=collection
        )
    if kind in BY_FILTER:
        filt = values.get("filter")
        out: list[str] = []
        unnamed = False
        if isinstance(result, dict):
            count = result.get("deletedCount", result.get("matchedCount", 0)) or 0
            ids = _ids_of(filt)
            if count and ids is not None and count == len({format_value(i) for i in ids}):
                out.extend(doc_key(collection, i) for i in ids)
            elif count:
                unnamed = True
            if result.get("upsertedId") is not None:
                out.append(doc_key(collection, result["upsertedId"]))
        deletes = tuple(out) if kind in DELETES else ()
        return Access(
            writes=tuple(out), deletes=deletes, unnamed=unnamed, filter=filt, collection=collection
        )
    return Access()


def simple_match(filt: Any, doc: dict[str, Any]) -> bool | None:
    """Whether `doc` matches an equality-only filter (`{field: value, ...}`, `_id` also by
    `$in`); None when the filter uses other operators (the documents are then not named)."""
    if not isinstance(filt, dict):
        return None
    for name, want in filt.items():
        if name == "_id":
            ids = _ids_of(filt)
            if ids is None:
                return None
            if format_value(doc.get("_id")) not in {format_value(i) for i in ids}:
                return False
        elif name.startswith("$") or "." in name or isinstance(want, dict):
            return None
        elif format_value(doc.get(name)) != format_value(want):
            return False
    return True


@dataclass
class Read:
    seq: int
    key: str
    doc: dict[str, Any]


@dataclass
class PredicateRead:
    seq: int
    collection: str
    filter: str
    matched: frozenset[str]


@dataclass
class Txn:
    """One transaction of a lane, or one statement outside a transaction (its own)."""

    id: str  # `A:3` (lane A's txn 3) or `A@17` (lane A's statement at row 17)
    lane: str
    label: str  # `A txn 3`, `A op 17`
    number: int | None
    status: str = "open"  # open, committed, aborted
    first_seq: int | None = None  # the first statement's row: the server opens the snapshot
    end_seq: int | None = None
    reads: list[Read] = field(default_factory=list)
    writes: list[tuple[int, str]] = field(default_factory=list)  # (row, key)
    deleted: set[str] = field(default_factory=set)
    predicates: list[PredicateRead] = field(default_factory=list)
    inserted: dict[str, dict[str, Any]] = field(default_factory=dict)
    conflict_seq: int | None = None  # the row of the WriteConflict that ended it
    closed_seq: int | None = None  # the lane's abort (or commit) after the server's abort
    refused: list[str] = field(default_factory=list)  # keys of the refused write

    @property
    def snapshot(self) -> int:
        return self.first_seq if self.first_seq is not None else self.end_seq or 0

    def wrote_before(self, key: str, seq: int) -> bool:
        return any(k == key and s < seq for s, k in self.writes)


@dataclass
class Row:
    """One step as the diagram draws it."""

    seq: int
    lane: str
    what: str
    outcome: str
    ok: bool = True
    kind: str = "op"  # op, txn (start/commit/abort), note
    action: str = ""  # the step's action (startTransaction, commit, find, ...)
    txn: str = ""  # the transaction's label
    txn_id: str = ""  # and its id (Txn.id)
    conflict_with: str = ""  # a WriteConflict: the lane holding the document
    waited_for: str = ""  # it waited for that lane (its commit or abort let it go on)
    code: int | None = None


@dataclass
class Step:
    """What a feeder knows of one finished step."""

    lane: str
    action: str  # startTransaction, commit, abort, endSession, or an operation's kind
    what: str
    outcome: str
    ok: bool
    in_txn: bool = False
    number: int | None = None  # the lane's transaction number
    access: Access = field(default_factory=Access)
    code: int | None = None
    aborted: bool | None = None  # the server aborted the transaction after this statement
    conflict_with: str = ""
    waited: bool = False
    waited_for: str = ""


class History:
    """Transactions and rows, in the order their replies came."""

    def __init__(self) -> None:
        self.txns: list[Txn] = []
        self.rows: list[Row] = []
        self.lanes: list[str] = []
        self._open: dict[str, Txn] = {}  # lane -> its current transaction
        self._seq = 0

    def _note_lane(self, lane: str) -> None:
        if lane and lane not in self.lanes:
            self.lanes.append(lane)

    def _new(self, lane: str, number: int | None, seq: int, in_txn: bool) -> Txn:
        if in_txn:
            txn = Txn(f"{lane}:{number}", lane, f"{lane} txn {number}", number)
        else:
            txn = Txn(f"{lane}@{seq}", lane, f"{lane} op {seq}", None)
        self.txns.append(txn)
        if len(self.txns) > MAX_TXNS:
            del self.txns[: len(self.txns) - MAX_TXNS]
        return txn

    def _end(self, lane: str, seq: int, status: str, keep: bool = False) -> None:
        """End the lane's transaction; with `keep` (the server aborted it) it stays the
        lane's until the lane's own abort closes it (closed_seq)."""
        txn = self._open.get(lane) if keep else self._open.pop(lane, None)
        if txn is None:
            return
        if txn.status == "open":
            txn.status = status
            txn.end_seq = seq
        elif txn.closed_seq is None and not keep:
            txn.closed_seq = seq

    def record(self, step: Step) -> Row:
        """Add one finished step: its row, and what it did to its lane's transaction."""
        self._seq += 1
        seq = self._seq
        self._note_lane(step.lane)
        row = Row(seq, step.lane, step.what, step.outcome, step.ok, "op", "", step.conflict_with)
        row.code = step.code
        action = row.action = step.action
        if action == "startTransaction":
            row.kind = "txn"
            if step.ok:
                self._end(step.lane, seq, "aborted")  # a new transaction ends the last one
                txn = self._new(step.lane, step.number, seq, True)
                self._open[step.lane] = txn
                row.txn, row.txn_id = txn.label, txn.id
        elif action in ("commit", "abort", "endSession"):
            row.kind = "txn"
            txn = self._open.get(step.lane)
            row.txn, row.txn_id = (txn.label, txn.id) if txn is not None else ("", "")
            if action == "commit" and step.ok:
                self._end(step.lane, seq, "committed")
            elif action != "commit" or step.code == NO_SUCH_TRANSACTION:
                self._end(step.lane, seq, "aborted")
        elif action == "withTransaction":
            row.kind = "txn"
        else:
            self._statement(step, seq, row)
        if step.waited:
            row.waited_for = step.waited_for or self._released_by(step.lane)
        self.rows.append(row)
        if len(self.rows) > MAX_ROWS:
            del self.rows[: len(self.rows) - MAX_ROWS]
        return row

    def _released_by(self, lane: str) -> str:
        """The lane whose transaction ended last before this row (what a wait waited for)."""
        for row in reversed(self.rows):
            if row.lane != lane and row.action in ("commit", "abort", "endSession"):
                return row.lane
        return ""

    def _statement(self, step: Step, seq: int, row: Row) -> None:
        a = step.access
        if step.in_txn:
            txn = self._open.get(step.lane)
            if txn is None or (step.number is not None and txn.number != step.number):
                txn = self._new(step.lane, step.number, seq, True)
                self._open[step.lane] = txn
        else:
            txn = self._new(step.lane, step.number, seq, False)
        row.txn, row.txn_id = txn.label, txn.id
        if txn.first_seq is None:
            txn.first_seq = seq
        if step.code == WRITE_CONFLICT:
            txn.conflict_seq = seq
            txn.refused = self._refused_keys(txn, a)
            if not row.conflict_with:
                row.conflict_with = self._holder(txn)
        if step.ok:
            for key, doc in a.reads:
                txn.reads.append(Read(seq, key, doc))
            if a.predicate is not None:
                txn.predicates.append(PredicateRead(seq, *a.predicate, a.matched))
            for key in a.writes:
                txn.writes.append((seq, key))
            txn.deleted.update(a.deletes)
            txn.inserted.update(dict(a.inserted))
        if not step.in_txn:
            txn.end_seq = seq
            txn.status = "committed" if step.ok else "aborted"
        elif step.aborted:
            self._end(step.lane, seq, "aborted", keep=True)

    def _holder(self, txn: Txn) -> str:
        """The lane whose transaction wrote a document the refused write meant: one still
        open, else one committed after this transaction's snapshot (the history's view)."""
        keys = set(txn.refused)
        for other in self._open.values():
            if other is not txn and other.status == "open" and keys & {k for _, k in other.writes}:
                return other.lane
        for other in reversed(self.txns):
            if other is txn or other.status != "committed" or other.lane == txn.lane:
                continue
            if (other.end_seq or 0) > txn.snapshot and keys & {k for _, k in other.writes}:
                return other.lane
        return ""

    def _refused_keys(self, txn: Txn, a: Access) -> list[str]:
        """The documents a refused write meant: its `_id`s, or those of the documents the
        transaction had read that its equality filter matches."""
        ids = _ids_of(a.filter)
        if ids is not None:
            return [doc_key(a.collection, i) for i in ids]
        keys = [k for k, _ in a.inserted]
        for r in txn.reads:
            if r.key.startswith(a.collection + "/") and simple_match(a.filter, r.doc):
                keys.append(r.key)
        return list(dict.fromkeys(keys))

    def txn(self, txn_id: str) -> Txn | None:
        return next((t for t in reversed(self.txns) if t.id == txn_id), None)


__all__ = ["Access", "History", "Row", "Step", "Txn", "access_of", "doc_key", "simple_match"]

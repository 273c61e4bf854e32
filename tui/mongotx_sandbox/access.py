"""Reads and writes as one operation sees them: inside a transaction's snapshot, or latest.

Transactional writes conflict at once (first writer wins, reference §3.4); a
non-transactional write to a document held by an open transaction waits for it to end
(§3.5), bounded by the operation's maxTimeMS.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from re import Pattern
from typing import Any

from bson.int64 import Int64
from bson.regex import Regex

from . import engine, offload, waits
from .clock import int_to_ts
from .connections import Connection
from .errors import WRITE_CONFLICT_MSG, CommandError
from .index_keys import UNDEFINED
from .operations import RunningOp
from .state import ServerState, images_enabled, session_key
from .store import Collection, Index, LockHolder, path_value
from .transactions import ServerSession, Transaction, TxnOp


def write_conflict() -> CommandError:
    return CommandError(112, WRITE_CONFLICT_MSG)


def engine_error(exc: engine.EngineError) -> CommandError:
    return CommandError(exc.code, exc.message, code_name_override=exc.code_name)


class DuplicateKey(CommandError):
    """E11000: a `writeErrors` entry for write commands, a command error elsewhere."""

    def __init__(
        self,
        coll: Collection,
        index: Index,
        doc: dict[str, Any],
        values: tuple[Any, ...] | None = None,
    ) -> None:
        """`values`: the duplicated key's values (one element of an array), else read
        from `doc`."""
        key_pattern = dict(index.key)
        if values is None:
            values = tuple(path_value(doc, path) for path in index.key)
        # BSON undefined (an empty array's key) has no Python value to send.
        key_value = {
            path: None if v is UNDEFINED else v for path, v in zip(index.key, values, strict=True)
        }
        shown = ", ".join(f"{k}: {_short(v)}" for k, v in zip(index.key, values, strict=True))
        message = (
            f"E11000 duplicate key error collection: {coll.ns} index: {index.name} "
            f"dup key: {{ {shown} }}"
        )
        super().__init__(11000, message, extra={"keyPattern": key_pattern, "keyValue": key_value})


def _short(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    return repr(value) if not isinstance(value, int | float) else str(value)


@dataclass
class OpContext:
    """One command's view of the data."""

    state: ServerState
    db: str
    connection: Connection | None = None  # the client's connection (None: run internally)
    txn: Transaction | None = None
    session: ServerSession | None = None
    deadline: float | None = None  # time.monotonic() limit from maxTimeMS
    snapshot: int | None = None  # explicit read time (snapshot reads outside a transaction)
    let: dict[str, Any] | None = None  # the command's `let` variables
    bypass_validation: bool = False  # bypassDocumentValidation
    # The collation strings compare under (matching, sort, distinct, aggregate): the
    # operation's own, else the collection's default (create's `collation`); None: binary.
    collation: dict[str, Any] | None = None
    wrote: bool = False
    last_write_seq: int = 0
    # The reply's operationTime when it is not the last write's (a commit's commit time).
    operation_time: int | None = None
    # The command as $currentOp lists it (None: run internally): locks.py marks its waits.
    op: RunningOp | None = None
    # A chunk migration's write, set by the router's internal migration commands only
    # (commands/migration.py): its oplog entries carry fromMigrate.
    from_migrate: bool = False

    @property
    def session_key(self) -> Hashable | None:
        """The session's key (a cursor it opens belongs to it), None without a session."""
        return session_key(self.session.lsid) if self.session is not None else None

    # ---- catalog --------------------------------------------------------------------
    def collection(self, db: str, name: str) -> Collection | None:
        """`db.name` as this operation sees it: in a transaction, the collection the name
        had at its snapshot (one it created itself first), else the latest."""
        txn = self.txn
        if txn is None:
            if self.snapshot is not None and self.state.replica is not None:
                # A member of a larger set reads the catalog as of its read time too: a
                # lagging secondary still has a collection the primary dropped.
                return self.state.catalog.at(db, name, self.snapshot)
            return self.state.catalog.get(db, name)
        txn.touched.add((db, name))
        coll = txn.created.get((db, name))
        if coll is None:
            coll = self.state.catalog.at(db, name, txn.snapshot)
        return coll

    def check_writable(self, db: str, name: str) -> None:
        """A transaction writes only to the collection its snapshot names if that is still
        the latest one, unchanged since the snapshot; otherwise WriteConflict, before any
        document is touched [srv:db/shard_role.cpp verifyDbAndCollection: "Unable to write
        to collection ... due to catalog changes"]. The second rule needs a point-in-time
        read timestamp, which only level snapshot has
        [srv:db/transaction/transaction_participant.cpp _setReadSnapshot]."""
        txn = self.txn
        if txn is None:
            return
        coll = self.collection(db, name)
        if coll is None or txn.created.get((db, name)) is coll:
            return
        if self.state.catalog.get(db, name) is not coll:
            raise CommandError(
                112,
                f"Unable to write to collection '{db}.{name}' due to catalog changes; please "
                "retry the operation",
            )
        snapshot = txn.snapshot or 0
        if txn.read_concern.get("level") == "snapshot" and snapshot < coll.min_valid:
            raise CommandError(
                112,
                f"Unable to write to collection '{db}.{name}' due to snapshot timestamp "
                f"{int_to_ts(snapshot)} being older than collection minimum "
                f"{int_to_ts(coll.min_valid)}; please retry the operation",
            )

    def ensure_collection(self, db: str, name: str) -> Collection:
        coll = self.collection(db, name)
        if coll is not None:
            if coll.is_view:
                raise CommandError(166, f"Namespace {db}.{name} is a view, not a collection")
            return coll
        check_namespace(db, name)
        if self.txn is not None:
            refuse_system_create(db, name)
            coll = Collection(db, name)
            self.txn.created[(db, name)] = coll
            return coll
        # A new commit time: snapshots taken before it do not see the collection.
        return self.state.catalog.create(
            db, name, seq=self.state.clock.tick(), oldest=self.state.oldest_snapshot()
        )

    def use_collation(self, coll: Collection | None, explicit: Any = None) -> dict | None:
        """Set (and return) the collation of the operation on `coll`: `explicit` (the
        command's or statement's `collation`, validated here) or the collection's default.
        An empty `collation: {}` is no collation: the query takes no collator from it
        [srv:db/query/canonical_query.cpp, the collator is made only from a non-empty
        collation] (issue 17)."""
        if explicit is None or explicit == {}:
            explicit = coll.options.get("collation") if coll is not None else None
        elif not isinstance(explicit, dict):
            raise CommandError(
                14,
                f"BSON field 'collation' is the wrong type '{engine.type_name(explicit)}', "
                "expected type 'object'",
            )
        if explicit is not None:
            try:
                engine.check_collation(explicit)
            except engine.EngineError as exc:
                raise engine_error(exc) from exc
        self.collation = explicit
        return explicit

    # ---- reads ----------------------------------------------------------------------
    @property
    def read_snapshot(self) -> int | None:
        if self.txn is not None:
            return self.txn.snapshot
        return self.snapshot

    def get(self, coll: Collection, key: Hashable) -> dict[str, Any] | None:
        if self.txn is not None:
            ws = self.txn.write_set(coll)
            if ws is not None and key in ws:
                return ws[key]
        return coll.committed(key, self.read_snapshot)

    def scan(self, coll: Collection) -> list[tuple[Hashable, dict[str, Any]]]:
        """Every visible document, in natural (insertion) order."""
        if coll.is_view:
            return self._view_documents(coll)
        snapshot = self.read_snapshot
        ws = self.txn.write_set(coll) if self.txn is not None else None
        if not ws:
            return list(coll.iter_committed(snapshot))
        out = []
        for key, doc in coll.iter_committed(snapshot):
            if key in ws:
                doc = ws[key]
                if doc is None:
                    continue
            out.append((key, doc))
        seen = {k for k, _ in out}
        for key, doc in ws.items():
            if doc is not None and key not in seen and coll.committed(key, snapshot) is None:
                out.append((key, doc))
        return out

    def _view_documents(self, view: Collection) -> list[tuple[Hashable, dict[str, Any]]]:
        """A view's documents: its pipeline run over its source, as the server does."""
        source = self.collection(view.db, view.options["viewOn"])
        docs = [d for _, d in self.scan(source)] if source is not None else []

        def lookup(name: str) -> list[dict[str, Any]]:
            other = self.collection(view.db, name)
            return [d for _, d in self.scan(other)] if other is not None else []

        try:
            result = engine.run_pipeline(
                docs,
                view.options.get("pipeline") or [],
                lookup=lookup,
                collation=view.options.get("collation"),
            )
        except engine.EngineError as exc:
            raise engine_error(exc) from exc
        return [(i, d) for i, d in enumerate(result)]

    def find(
        self, coll: Collection | None, query: dict[str, Any] | None, limit: int = 0
    ) -> list[tuple[Hashable, dict[str, Any]]]:
        """Visible documents matching `query` (point lookups on _id use the index); with
        `limit`, at most that many, in natural order, stopping the scan early."""
        if coll is None:
            return []
        query = query or {}
        keys = None if coll.is_view else _id_point_keys(query)
        if (
            keys is not None
            and self.collation is not None
            and _has_string(query["_id"])
            and not engine.is_simple_collation(self.collation)
        ):
            keys = None  # string _ids equal under the collation: the index can't tell
        if keys is not None:
            out = []
            for key in keys:
                doc = self.get(coll, key)
                if doc is not None and (
                    (len(query) == 1 and _plain_id(query)) or self.matches(query, doc)
                ):
                    out.append((key, doc))
            return out
        rows = self._iter_visible(coll)
        if query:
            rows = ((k, d) for k, d in rows if self.matches(query, d))
        return list(itertools.islice(rows, limit)) if limit else list(rows)

    async def find_off_loop(
        self, coll: Collection | None, query: dict[str, Any] | None, limit: int = 0
    ) -> list[tuple[Hashable, dict[str, Any]]]:
        """`find`, with a scan that may be long tested off the event loop (offload.py), so
        other clients are answered meanwhile: the visible rows are listed here, on the loop,
        and only matched on a worker. Point lookups on _id and small cheap scans stay here."""
        if (
            coll is None
            or coll.is_view
            or not query
            or _id_point_keys(query) is not None
            or (coll.live < _OFF_LOOP_SCAN and not _costly(query))
        ):
            return self.find(coll, query, limit)
        rows = list(self._iter_visible(coll))

        def select() -> list[tuple[Hashable, dict[str, Any]]]:
            assert query is not None
            hits = ((k, d) for k, d in rows if self.matches(query, d))
            return list(itertools.islice(hits, limit)) if limit else list(hits)

        return await offload.compute(select)

    def _iter_visible(self, coll: Collection) -> Iterator[tuple[Hashable, dict[str, Any]]]:
        ws = self.txn.write_set(coll) if self.txn is not None else None
        if ws or coll.is_view:
            return iter(self.scan(coll))
        return coll.iter_committed(self.read_snapshot)

    def count(self, coll: Collection | None) -> int:
        """How many documents this operation sees (O(1) for the latest committed state)."""
        if coll is None:
            return 0
        if (
            self.read_snapshot is None
            and not coll.is_view
            and not (self.txn is not None and self.txn.write_set(coll))
        ):
            return coll.live
        return len(self.scan(coll))

    def matches(self, query: dict[str, Any], doc: dict[str, Any]) -> bool:
        try:
            return engine.matches(query, doc, let=self.let, collation=self.collation)
        except engine.EngineError as exc:
            raise engine_error(exc) from exc

    # ---- writes ---------------------------------------------------------------------
    async def lock_for_write(self, coll: Collection, key: Hashable) -> dict[str, Any] | None:
        """Make `key` writable by this operation and return its current version.

        In a transaction: conflict at once if another open transaction wrote it or a newer
        version was committed after our snapshot. Outside: wait for the holder to end.
        """
        txn = self.txn
        if txn is not None:
            holder = coll.locks.get(key)
            if holder is not None and holder is not txn:
                raise write_conflict()
            if holder is None and txn.snapshot is not None and coll.latest_seq(key) > txn.snapshot:
                raise write_conflict()
            return self.get(coll, key)
        while True:
            holder = coll.locks.get(key)
            if holder is None:
                return coll.committed(key, None)
            await self.wait_for(holder, conflict=True)

    async def wait_for(self, holder: LockHolder, conflict: bool = False) -> None:
        """Wait for `holder` to end (bounded by maxTimeMS). A `conflict` is a write meeting
        the holder's write: $currentOp counts it as write conflicts, or as a prepare
        conflict when the holder is prepared (prepare.py)."""
        timeout = None if self.deadline is None else self.deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            raise CommandError(50, "operation exceeded time limit")
        op = self.op if conflict else None
        prepared_since: float | None = None
        if op is not None:
            if getattr(holder, "prepared", False):
                op.prepare_read_conflicts += 1
                prepared_since = time.monotonic()
            else:
                op.write_conflict_since = time.monotonic()
        self.state.waiting_for_transactions += 1
        try:
            await waits.within(holder.ended.wait(), timeout)
        except TimeoutError as exc:
            raise CommandError(50, "operation exceeded time limit") from exc
        finally:
            self.state.waiting_for_transactions -= 1
            if op is not None and prepared_since is not None:
                op.prepare_conflict_seconds += time.monotonic() - prepared_since
            if op is not None and op.write_conflict_since is not None:
                op.write_conflicts = op.reported_write_conflicts(time.monotonic())
                op.write_conflict_since = None

    def check_valid(
        self, coll: Collection, before: dict[str, Any] | None, doc: dict[str, Any]
    ) -> None:
        """Schema validation (manual: "Schema Validation"): the collection's validator must
        match the new document, unless bypassed, off, or `moderate` on an already invalid
        document; `validationAction: warn` only logs."""
        validator = coll.options.get("validator")
        if not validator or self.bypass_validation:
            return
        level = coll.options.get("validationLevel", "strict")
        if level == "off" or coll.options.get("validationAction", "error") == "warn":
            return
        if self._valid(validator, doc):
            return
        if level == "moderate" and before is not None and not self._valid(validator, before):
            return
        raise CommandError(
            121,
            "Document failed validation",
            extra={
                "errInfo": {
                    "failingDocumentId": doc.get("_id"),
                    "details": {
                        "operatorName": "$jsonSchema" if "$jsonSchema" in validator else "$and",
                        "specifiedAs": validator,
                        "reason": "the document does not match the collection's validator",
                    },
                }
            },
        )

    def _valid(self, validator: dict[str, Any], doc: dict[str, Any]) -> bool:
        try:
            return engine.matches(validator, doc)
        except engine.EngineError as exc:
            raise engine_error(exc) from exc

    async def check_unique(
        self,
        coll: Collection,
        key: Hashable,
        before: dict[str, Any] | None,
        doc: dict[str, Any],
    ) -> list[tuple[Index, Hashable]]:
        """The keys `doc` adds to unique secondary indexes, once each is free to add.

        As WiredTiger does (Index.key_conflict): a key another writer still holds, or one
        added after our snapshot, is a WriteConflict in a transaction; outside one the write
        waits for the holder and runs again (KeyWaited), as writeConflictRetry does
        (server: db/concurrency/exception_util.h). Then a key on another document we can see
        is a duplicate (11000). A key the document already had is not written again. An
        array gives one key per element (index_keys), so two documents sharing one element
        are duplicates; a compound key over two arrays fails (171) on any index.
        """
        added = []
        for index in coll.indexes.values():
            if index.name == "_id_":
                continue
            if not index.unique:
                if len(index.key) > 1:
                    index.keys(doc)  # only for its parallel-arrays check (171)
                continue
            keys = index.keys(doc)
            if before is not None and keys:
                had = index.keys(before)
                keys = {entry: values for entry, values in keys.items() if entry not in had}
            if not keys:
                continue
            txn = self.txn
            for entry in keys:
                if txn is None and (holder := index.holders.get(entry)) is not None:
                    await self.wait_for(holder, conflict=True)
                    raise KeyWaited
                if index.key_conflict(entry, txn, txn.snapshot if txn is not None else None):
                    raise write_conflict()
            for other_key, other in self.scan(coll):
                if other_key == key:
                    continue
                shared = keys.keys() & index.keys(other).keys()
                if shared:
                    raise DuplicateKey(coll, index, doc, keys[min(shared, key=repr)])
            added.extend((index, entry) for entry in keys)
        return added

    async def put(
        self,
        coll: Collection,
        key: Hashable,
        doc: dict[str, Any] | None,
        op: str,
        update_description: dict[str, Any] | None = None,
    ) -> None:
        """Write a new version (None deletes). The caller locked `key` first."""
        before = self.get(coll, key)
        added: list[tuple[Index, Hashable]] = []
        if doc is not None:
            self.check_valid(coll, before, doc)
            added = await self.check_unique(coll, key, before, doc)
        txn = self.txn
        if txn is not None:
            if op == "insert" and coll.latest_seq(key) > (txn.snapshot or 0):
                if coll.committed(key, None) is not None or coll.locks.get(key) not in (None, txn):
                    raise write_conflict()
            txn.record(coll, key, doc)
            for index, entry in added:
                txn.hold_key(index, entry)
            txn.ops.append(TxnOp(op, coll, key, doc, update_description, before))
            return
        if self.state.catalog.get(coll.db, coll.name) is None:
            # Dropped while we waited: recreate implicitly, as a new insert would.
            coll = self.ensure_collection(coll.db, coll.name)
        seq = self.state.clock.tick()
        oldest = self.state.oldest_snapshot()
        coll.append(key, seq, doc, self.state.catalog.version_history)
        for index, entry in added:
            index.note_written(entry, seq, oldest)
        self.state.oldest_timestamp(oldest)  # drop what the window no longer needs
        self.wrote = True
        self.last_write_seq = seq
        self.state.log_write(
            seq,
            op,
            coll.db,
            coll.name,
            key,
            doc,
            pre_image=before,
            update_description=update_description,
            images=images_enabled(coll.options),
            uuid=coll.uuid,
            from_migrate=self.from_migrate,
        )

    async def insert(self, coll: Collection, doc: dict[str, Any]) -> None:
        key = engine.canonical_key(doc["_id"])
        while True:
            existing = await self.lock_for_write(coll, key)
            if existing is not None:
                raise DuplicateKey(coll, coll.indexes["_id_"], doc)
            try:
                await self.put(coll, key, doc, "insert")
            except KeyWaited:
                continue  # the key's holder ended: insert again on what it left
            return


class KeyWaited(Exception):
    """A write outside a transaction waited for the transaction holding a unique key it adds;
    the caller runs it again on the new state, as the server's write-conflict retry does."""


# Scans of at least this many documents filter off the loop (a thread hop costs about as
# much as testing a few hundred plain documents), and so does any scan with a regex or an
# expression, whose cost per document has no small bound.
_OFF_LOOP_SCAN = 512
_COSTLY_OPERATORS = frozenset({"$regex", "$expr", "$where", "$jsonSchema", "$function"})


def _costly(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k in _COSTLY_OPERATORS or _costly(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_costly(v) for v in value)
    return _is_regex(value)


def _plain_id(query: dict[str, Any]) -> bool:
    value = query.get("_id")
    return not isinstance(value, dict)


_SCALAR_ID_TYPES = (str, int, float, Int64)


def _id_point_keys(query: dict[str, Any]) -> list[Hashable] | None:
    """Canonical _id keys when the query pins `_id` to values, else None."""
    if "_id" not in query:
        return None
    value = query["_id"]
    if isinstance(value, dict):
        if len(value) == 1 and "$eq" in value and not isinstance(value["$eq"], dict | list):
            return [engine.canonical_key(value["$eq"])]
        if len(value) == 1 and "$in" in value and isinstance(value["$in"], list):
            items = value["$in"]
            if all(not isinstance(v, dict | list) and not _is_regex(v) for v in items):
                return list(dict.fromkeys(engine.canonical_key(v) for v in items))
        if value and not any(k.startswith("$") for k in value):
            return [engine.canonical_key(value)]
        return None
    if isinstance(value, list) or _is_regex(value):
        return None
    return [engine.canonical_key(value)]


def id_point_keys(query: dict[str, Any], collation: dict[str, Any] | None) -> list[Hashable] | None:
    """The `_id` keys `OpContext.find` reads through the `_id_` index for `query`, or None
    when it scans the collection (explain shows the plan)."""
    keys = _id_point_keys(query)
    if (
        keys is not None
        and collation is not None
        and _has_string(query["_id"])
        and not engine.is_simple_collation(collation)
    ):
        return None
    return keys


def _has_string(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, dict):
        return any(_has_string(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_string(v) for v in value)
    return False


def _is_regex(value: Any) -> bool:
    return isinstance(value, Regex | Pattern)


def refuse_system_create(db: str, name: str) -> None:
    """No system collection is created in a transaction
    [srv:db/catalog/create_collection.cpp createCollection]."""
    if name.startswith("system."):
        raise CommandError(
            263, f"Cannot create system collection {db}.{name} within a transaction."
        )


def check_namespace(db: str, name: str) -> None:
    if not db or any(c in db for c in '/\\. "$\x00') or len(db) > 63:
        raise CommandError(73, f"Invalid database name: '{db}'")
    if not name or "$" in name or "\x00" in name or name.startswith("."):
        raise CommandError(73, f"Invalid collection name: '{name}'")

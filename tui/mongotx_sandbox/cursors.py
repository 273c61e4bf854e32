"""Server-side cursors: the rest of a result set, handed out batch by batch by getMore."""

from __future__ import annotations

import base64
import hashlib
import random
import time
import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bson.int64 import Int64

from .engine import type_name as bson_type_name
from .errors import CommandError
from .wire import encode_document

if TYPE_CHECKING:
    from .state import ServerState
    from .transactions import Transaction

DEFAULT_FIRST_BATCH = 101

# A reply batch holds at most 16 MiB of documents (BSONObjMaxUserSize): a document is added
# while the bytes already in the batch plus its own size stay within it, the first one always,
# and the one that would cross the limit waits for the next getMore (server:
# src/mongo/db/query/find_common.cpp FindCommon::haveSpaceForNext and fitsInBatch, used by
# find, getMore, aggregate, the list commands and bulkWrite's reply cursor).
MAX_BATCH_BYTES = 16 * 1024 * 1024


class BatchBytes:
    """The bytes of one reply batch so far, as the server's array builder counts them."""

    def __init__(self) -> None:
        self.used = 0
        self.count = 0

    def add(self, doc: dict[str, Any]) -> bool:
        """Add `doc` if it fits (the first always does); False leaves it for the next batch."""
        size = len(encode_document(doc))
        if self.count and self.used + size > MAX_BATCH_BYTES:
            return False
        # An array element costs its type byte, its index as a name and the name's NUL.
        self.used += size + 2 + len(str(self.count))
        self.count += 1
        return True


@dataclass
class Cursor:
    """An open cursor: the documents left to return in getMore batches."""

    id: int
    ns: str
    docs: list[dict[str, Any]]
    pos: int = 0
    limit: int = 0  # 0: no limit; counts documents returned so far
    returned: int = 0
    lsid_key: Hashable | None = None
    txn: Transaction | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    no_timeout: bool = False  # noCursorTimeout: the idle-cursor reaper leaves it
    last_use: float = field(default_factory=time.monotonic)

    def take(self, batch_size: int | None) -> list[dict[str, Any]]:
        """The next batch: at most `batch_size` documents (None: no count limit; 0: none)
        and at most 16 MiB of them."""
        end = len(self.docs)
        if batch_size is not None:
            end = min(end, self.pos + batch_size)
        if self.limit:
            end = min(end, self.pos + (self.limit - self.returned))
        size = BatchBytes()
        stop = self.pos
        while stop < end and size.add(self.docs[stop]):
            stop += 1
        batch = self.docs[self.pos : stop]
        self.pos = stop
        self.returned += len(batch)
        self.last_use = time.monotonic()
        return batch

    @property
    def exhausted(self) -> bool:
        return self.pos >= len(self.docs) or (self.limit and self.returned >= self.limit)


def open_cursor(
    state: ServerState,
    ns: str,
    docs: list[dict[str, Any]],
    *,
    first_batch: int | None,
    limit: int = 0,
    single_batch: bool = False,
    lsid_key: Hashable | None = None,
    txn: Transaction | None = None,
    extra: dict[str, Any] | None = None,
    no_timeout: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """Return the first batch and the cursor id (0 when everything fit).

    `first_batch` None takes as many documents as 16 MiB allow; 0 takes none, and the
    cursor stays open for what is left (batchSize 0 asks for an empty first batch).
    """
    cursor = Cursor(
        0,
        ns,
        docs,
        limit=limit,
        lsid_key=lsid_key,
        txn=txn,
        extra=extra or {},
        no_timeout=no_timeout,
    )
    batch = cursor.take(first_batch)
    if single_batch or cursor.exhausted:
        return batch, 0
    cursor.id = new_cursor_id(state)
    state.cursors[cursor.id] = cursor
    if txn is not None:
        txn.cursors.add(cursor.id)
    return batch, cursor.id


_IDS = random.Random()  # its own generator: a test seeding `random` does not fix cursor ids
# The uid mongod gives a session when no one is authenticated: SHA-256 of the empty user name.
_NO_USER_UID = base64.b64encode(hashlib.sha256(b"").digest()).decode()


def new_cursor_id(state: ServerState) -> int:
    """A random positive 64-bit id no open cursor has: a client can't guess another's
    cursor from its own [srv:db/query/cursor_manager.cpp allocateCursorId_inlock]."""
    while True:
        cid = _IDS.getrandbits(63)
        if cid and cid not in state.cursors:
            return cid


def session_text(lsid_key: Hashable) -> str:
    """A session as mongod writes it in messages: `<id> - <uid> -  - `."""
    sid, uid = lsid_key if isinstance(lsid_key, tuple) else (None, None)
    shown = str(uuid.UUID(bytes=sid)) if isinstance(sid, bytes) and len(sid) == 16 else str(sid)
    uid_text = base64.b64encode(uid).decode() if isinstance(uid, bytes) else _NO_USER_UID
    return f"{shown} - {uid_text} -  - "


def check_owner(cursor: Cursor, lsid_key: Hashable | None, txn: Transaction | None) -> None:
    """getMore continues a cursor only in the session and transaction that opened it
    [srv:db/commands/getmore_cmd.cpp validateLSID, validateTxnNumber]."""
    cid, owner = cursor.id, cursor.lsid_key
    if lsid_key is not None and owner is None:
        raise CommandError(
            50736,
            f"Cannot run getMore on cursor {cid}, which was not created in a session, in "
            f"session {session_text(lsid_key)}",
        )
    if lsid_key is None and owner is not None:
        raise CommandError(
            50737,
            f"Cannot run getMore on cursor {cid}, which was created in session "
            f"{session_text(owner)}, without an lsid",
        )
    if lsid_key != owner:
        raise CommandError(
            50738,
            f"Cannot run getMore on cursor {cid}, which was created in session "
            f"{session_text(owner)}, in session {session_text(lsid_key)}",
        )
    if txn is not None and cursor.txn is None:
        raise CommandError(
            50739,
            f"Cannot run getMore on cursor {cid}, which was not created in a transaction, "
            f"in transaction {txn.txn_number}",
        )
    if txn is None and cursor.txn is not None:
        raise CommandError(
            50740,
            f"Cannot run getMore on cursor {cid}, which was created in transaction "
            f"{cursor.txn.txn_number}, without a txnNumber",
        )
    if txn is not None and cursor.txn is not None and txn is not cursor.txn:
        raise CommandError(
            50741,
            f"Cannot run getMore on cursor {cid}, which was created in transaction "
            f"{cursor.txn.txn_number}, in transaction {txn.txn_number}",
        )


def cursor_reply(
    ns: str, batch: list[dict[str, Any]], cursor_id: int, first: bool, **extra: Any
) -> dict[str, Any]:
    cursor: dict[str, Any] = {
        "firstBatch" if first else "nextBatch": batch,
        "id": Int64(cursor_id),
        "ns": ns,
    }
    cursor.update(extra)
    return {"cursor": cursor, "ok": 1.0}


def expire_idle(state: ServerState, now: float | None = None) -> int:
    """Kill the cursors the server would no longer keep; return how many.

    The cursor monitor kills a cursor idle for `cursorTimeoutMillis` (default 10 minutes)
    unless it was opened with noCursorTimeout or in a session: a session's cursors time out
    only with enableTimeoutOfInactiveSessionCursors (server:
    src/mongo/db/query/client_cursor/cursor_manager.cpp cursorShouldTimeout_inlock). They
    go instead when their session expires or is killed: the logical session cache's refresh
    kills the cursors of sessions no longer in config.system.sessions
    (src/mongo/db/session/logical_session_cache_impl.cpp _refresh, findRemovedSessions).
    A transaction's cursors are session cursors, and end with the transaction.
    """
    now = time.monotonic() if now is None else now
    timeout = float(state.parameters.get("cursorTimeoutMillis", 600_000)) / 1000
    session_cursors_expire = bool(state.parameters.get("enableTimeoutOfInactiveSessionCursors"))
    dead = []
    for cursor_id, cursor in state.cursors.items():
        if cursor.lsid_key is not None and cursor.lsid_key not in state.sessions:
            dead.append(cursor_id)  # its session expired
        elif cursor.no_timeout or (cursor.lsid_key is not None and not session_cursors_expire):
            continue
        elif now - cursor.last_use >= timeout:
            dead.append(cursor_id)
    for cursor_id in dead:
        cursor = state.cursors.pop(cursor_id)
        if cursor.txn is not None:
            cursor.txn.cursors.discard(cursor_id)
    return len(dead)


def cursor_ids(value: Any) -> list[int]:
    """killCursors' `cursors`: an array of cursor ids (IDL array<long>: a required array of
    numbers) [srv:db/query/kill_cursors.idl]."""
    if value is None:
        raise CommandError(
            40414, "BSON field 'killCursors.cursors' is missing but a required field"
        )
    if not isinstance(value, list):
        raise CommandError(
            14,
            f"BSON field 'killCursors.cursors' is the wrong type '{bson_type_name(value)}', "
            "expected type 'array'",
        )
    ids = []
    for i, cid in enumerate(value):
        if isinstance(cid, float) and cid.is_integer():
            cid = int(cid)
        if not isinstance(cid, int) or isinstance(cid, bool):
            raise CommandError(
                14,
                f"BSON field 'killCursors.cursors.{i}' is the wrong type "
                f"'{bson_type_name(cid)}', expected type 'long'",
            )
        ids.append(int(cid))
    return ids

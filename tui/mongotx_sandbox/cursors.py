"""Server-side cursors: the rest of a result set, handed out batch by batch by getMore."""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bson.int64 import Int64

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
    cursor.id = state.next_cursor_id
    state.next_cursor_id += 1
    state.cursors[cursor.id] = cursor
    if txn is not None:
        txn.cursors.add(cursor.id)
    return batch, cursor.id


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

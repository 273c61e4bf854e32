"""Server-side cursors: the rest of a result set, handed out batch by batch by getMore."""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bson.int64 import Int64

from .engine import type_name as bson_type_name
from .errors import CommandError

if TYPE_CHECKING:
    from .state import ServerState
    from .transactions import Transaction

DEFAULT_FIRST_BATCH = 101


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

    def take(self, batch_size: int | None) -> list[dict[str, Any]]:
        end = len(self.docs)
        if batch_size:
            end = min(end, self.pos + batch_size)
        if self.limit:
            end = min(end, self.pos + (self.limit - self.returned))
        batch = self.docs[self.pos : end]
        self.pos = end
        self.returned += len(batch)
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
) -> tuple[list[dict[str, Any]], int]:
    """Return the first batch and the cursor id (0 when everything fit)."""
    cursor = Cursor(0, ns, docs, limit=limit, lsid_key=lsid_key, txn=txn, extra=extra or {})
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

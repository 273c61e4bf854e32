"""config.transactions as far as prepared transactions make it visible (issue 15, item 3).

mongod writes a session's transaction record into config.transactions when the transaction
prepares and when it commits; a direct write to that table under a session is refused
(40528), one that would reset a session whose transaction is prepared fails (267), and the
table is not dropped while any transaction is prepared (4852500). The sandbox keeps those
records in memory (transactions.TxnRecord): `find` on config.transactions answers them;
other reads see an empty collection, and a write the rules above let through changes
nothing (the sandbox does not let a client reset its sessions that way).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bson.binary import Binary
from bson.int64 import Int64

from . import engine
from .clock import int_to_ts
from .errors import CommandError
from .transactions import ServerTxnState, TxnRecord

if TYPE_CHECKING:
    from .access import OpContext

_WRITES = frozenset({"insert", "update", "delete", "findAndModify", "findandmodify"})
# Without authentication a session's uid is the SHA-256 of the empty user name
# [srv:db/logical_session_id_helpers.cpp getLogicalSessionUserDigestForLoggedInUser].
_NO_USER = hashlib.sha256(b"").digest()


async def before_command(ctx: OpContext, name: str, body: dict[str, Any]) -> dict | None:
    """The reply for a `find`, an error for a refused write or drop, else None (the
    command runs as on any collection)."""
    if name == "find":
        return _find(ctx, body)
    if name == "drop" and ctx.state.prepared:
        # [srv:db/op_observer/op_observer_impl.cpp onDropCollection]
        raise CommandError(
            4852500,
            "Unable to drop transactions table (config.transactions) while prepared "
            "transactions are present.",
        )
    if name not in _WRITES:
        return None
    if ctx.session is not None:
        # [srv:db/session/session_catalog_mongod.cpp disallowDirectWritesUnderSession]
        raise CommandError(
            40528,
            "Direct writes against config.transactions cannot be performed using a "
            "transaction or on a session.",
        )
    filters = _write_filters(name, body)
    prepared = [doc for doc in _entries(ctx) if doc.get("state") == "prepared"]
    if any(_matches(f, doc) for f in filters for doc in prepared):
        # Writing a record resets its session, which a prepared transaction refuses
        # [srv:db/transaction/transaction_participant.cpp invalidate].
        raise CommandError(267, "Cannot invalidate prepared transaction")
    return None


def _write_filters(name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    if name in ("update", "delete"):
        items = body.get("updates" if name == "update" else "deletes")
        items = items if isinstance(items, list) else []
        return [i["q"] for i in items if isinstance(i, dict) and isinstance(i.get("q"), dict)]
    if name == "insert":
        return []
    q = body.get("query")
    return [q if isinstance(q, dict) else {}]


def _matches(query: dict[str, Any], doc: dict[str, Any]) -> bool:
    try:
        return engine.matches(query, doc)
    except engine.EngineError:
        return False


def _find(ctx: OpContext, body: dict[str, Any]) -> dict[str, Any]:
    query = body.get("filter")
    query = query if isinstance(query, dict) else {}
    docs = [doc for doc in _entries(ctx) if _matches(query, doc)]
    limit = body.get("limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        docs = docs[:limit]
    return {
        "cursor": {"firstBatch": docs, "id": Int64(0), "ns": "config.transactions"},
        "ok": 1.0,
    }


def _entries(ctx: OpContext) -> list[dict[str, Any]]:
    """One document per session whose transaction prepared or committed (the records
    config.transactions holds for transactions: SessionTxnRecord)."""
    out = []
    for key, record in list(ctx.state.txn_records.items()):
        entry = _entry(ctx, key, record)
        if entry is not None:
            out.append(entry)
    return out


def _entry(ctx: OpContext, key: Hashable, record: TxnRecord) -> dict[str, Any] | None:
    sess = ctx.state.sessions.get(key)
    txn = sess.txn if sess is not None else None
    if txn is not None and txn.txn_number != record.txn_number:
        txn = None
    if txn is not None and txn.prepared and txn.prepare_ts is not None:
        state, ts = "prepared", txn.prepare_ts
    elif txn is not None and txn.state is ServerTxnState.COMMITTED and txn.commit_seq:
        state, ts = "committed", txn.commit_seq
    elif record.outcome is ServerTxnState.COMMITTED and record.commit_seq:
        state, ts = "committed", record.commit_seq
    else:
        return None
    sid, uid = key if isinstance(key, tuple) else (None, None)
    if sid is None:
        return None
    return {
        "_id": {"id": Binary(sid, 4), "uid": Binary(uid or _NO_USER, 0)},
        "txnNum": Int64(record.txn_number),
        "lastWriteOpTime": {"ts": int_to_ts(ts), "t": Int64(1)},
        "lastWriteDate": datetime.fromtimestamp(ts >> 32, UTC),
        "state": state,
    }

"""A scenario's `recoverCommit`: commit a session's transaction as a client that lost its
router would, through a new connection to a router (another one when the client knows
several), sending `commitTransaction` with the session's lsid, txnNumber and the
`recoveryToken` the first router returned. No textual.

MongoDB: a router answers every statement of a transaction with a `recoveryToken` (the
coordinator shard) and the driver keeps the last one [srv:s/transaction_router.cpp
TransactionRouter::Router::appendRecoveryToken]; a router that did not run the
transaction commits with the token by asking that shard for the decision
(`_commitWithRecoveryToken`, coordinateCommitTransaction) [spec: transactions.md
"recoveryToken field", "Mongos Pinning"; spec test transactions/mongos-recovery-token]."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

_ids = itertools.count(1)


def session_recovery(session: Any) -> tuple[Any, Any]:
    """The recovery token pymongo keeps for `session`'s transaction (the last a router
    returned) and the router the transaction is pinned to. pymongo has no public accessor;
    it keeps both on the session's transaction (client_session_shared._Transaction)."""
    txn = getattr(session, "_transaction", None)
    return getattr(txn, "recovery_token", None), getattr(txn, "pinned_address", None)


def other_router(nodes: Any, pinned: Any) -> tuple[str, int] | None:
    """A router other than the pinned one when the client knows several; else the one."""
    known = sorted(nodes or [])
    others = [n for n in known if tuple(n) != tuple(pinned or ())]
    pick = others[0] if others else (known[0] if known else pinned)
    return (str(pick[0]), int(pick[1])) if pick else None


def commit_command(lsid: Any, txn_number: int, token: Any) -> dict[str, Any]:
    from bson import Int64

    return {
        "commitTransaction": 1,
        "lsid": lsid,
        "txnNumber": Int64(txn_number),
        "autocommit": False,
        "recoveryToken": token,
        "$db": "admin",
    }


async def send_command(host: str, port: int, body: dict[str, Any], timeout: float) -> dict:
    """One OP_MSG on a new connection (no handshake, no authentication: a router answers
    a command without them, as it does to mongosh's first command)."""
    from .proxy.frames import HEADER, decode_msg, encode_msg

    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(encode_msg(next(_ids), 0, 0, body))
        await writer.drain()
        head = await asyncio.wait_for(reader.readexactly(HEADER.size), timeout)
        rest = await asyncio.wait_for(
            reader.readexactly(HEADER.unpack(head)[0] - HEADER.size), timeout
        )
    finally:
        writer.close()
    return decode_msg(head + rest).body


async def recover_commit(session: Any, client: Any, txn_number: int | None, timeout: float) -> str:
    """Commit `session`'s transaction through a new connection with its recovery token;
    the one-line summary. The server's refusal is raised as pymongo raises it."""
    from pymongo.errors import InvalidOperation, OperationFailure

    token, pinned = session_recovery(session)
    if session is None or txn_number is None:
        raise InvalidOperation("this session has no transaction to recover")
    if not token:
        raise InvalidOperation(
            "no recovery token: only a router returns one, to a transaction's statements"
        )
    address = other_router(client.nodes, pinned)
    if address is None:
        raise InvalidOperation("no router known to the client")
    body = commit_command(session.session_id, txn_number, token)
    reply = await send_command(*address, body, timeout)
    if not reply.get("ok"):
        raise OperationFailure(str(reply.get("errmsg", "")), reply.get("code"), reply)
    where = "another router" if pinned is not None and address != tuple(pinned) else "a router"
    return f"committed through a new connection to {where} ({address[0]}:{address[1]})"

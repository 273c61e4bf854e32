"""Collection locks as far as users can see them: DDL waits for transactions, and while it
waits it blocks newcomers (manual: "Production Considerations", "Pending DDL Operations and
Transactions"; reference §3.5 and §3.8).

- A DDL command (drop, createIndexes, collMod, rename, dropDatabase, dropIndexes) needs the
  exclusive lock: it waits for every open transaction that used the collection.
- While it waits, a transaction's first use of that collection waits at most
  `maxTransactionLockRequestTimeoutMillis` (default 5 ms) and then fails with LockTimeout
  (24, TransientTransactionError), which aborts the transaction.
- Operations outside transactions wait until the DDL is done (or their maxTimeMS).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

from . import waits
from .errors import CommandError

if TYPE_CHECKING:
    from .access import OpContext

Namespace = tuple[str, str | None]  # (db, collection), or (db, None) for the whole database


def _pending(ctx: OpContext, db: str, name: str) -> asyncio.Event | None:
    pending = ctx.state.ddl_pending
    return pending.get((db, name)) or pending.get((db, None))


@contextmanager
def _waiting(ctx: OpContext, resource: str, mode: str) -> Iterator[None]:
    """While the operation waits for a lock, $currentOp lists it with `waitingForLock: true`
    and the lock it wants [srv:db/curop.cpp CurOp::reportState, "waitingForLock" from
    Locker::isWaitingForLock] (issue 17, D6)."""
    op = ctx.op
    if op is None:
        yield
        return
    op.waiting_for_lock = True
    op.lock = (resource, mode)
    op.lock_waits += 1
    try:
        yield
    finally:
        op.waiting_for_lock = False


@asynccontextmanager
async def exclusive(ctx: OpContext, db: str, name: str | None) -> AsyncIterator[None]:
    """Hold the pending exclusive lock on `db.name` (or the whole `db`) while transactions
    that used it finish; the DDL then runs with nothing else in between."""
    released = asyncio.Event()
    key: Namespace = (db, name)
    previous = ctx.state.ddl_pending.get(key)
    resource = "Database" if name is None else "Collection"
    if previous is not None:
        with _waiting(ctx, resource, "W"):
            await _wait(ctx, previous)  # one DDL at a time per namespace
    ctx.state.ddl_pending[key] = released
    try:
        while True:
            blocker = next(
                (
                    txn
                    for txn in ctx.state.open_transactions()
                    if txn is not ctx.txn
                    and any(d == db and (name is None or n == name) for d, n in txn.touched)
                ),
                None,
            )
            if blocker is None:
                break
            with _waiting(ctx, resource, "W"):
                await ctx.wait_for(blocker)
        if ctx.op is not None:
            ctx.op.lock = (resource, "W")
        yield
    finally:
        if ctx.state.ddl_pending.get(key) is released:
            del ctx.state.ddl_pending[key]
        released.set()


async def before_statement(ctx: OpContext, db: str, name: str | None) -> None:
    """Run before a command on `db.name`: transactions time out on a pending DDL, others wait."""
    if name is None:
        return
    event = _pending(ctx, db, name)
    txn = ctx.txn
    if txn is not None:
        if event is None or (db, name) in txn.touched:
            txn.touched.add((db, name))
            return
        limit_ms = float(ctx.state.parameters["maxTransactionLockRequestTimeoutMillis"])
        if limit_ms >= 0:
            try:
                with _waiting(ctx, "Collection", "w"):
                    await waits.within(event.wait(), limit_ms / 1000)
            except TimeoutError:
                raise CommandError(
                    24, f"Unable to acquire IX lock on '{{{db}.{name}}}' within {limit_ms:g}ms."
                ) from None
        else:
            with _waiting(ctx, "Collection", "w"):
                await event.wait()
        txn.touched.add((db, name))
        return
    while event is not None:
        with _waiting(ctx, "Collection", "w"):
            await _wait(ctx, event)
        event = _pending(ctx, db, name)


async def _wait(ctx: OpContext, event: asyncio.Event) -> None:
    timeout = None if ctx.deadline is None else ctx.deadline - time.monotonic()
    try:
        await waits.within(event.wait(), timeout)
    except TimeoutError:
        raise CommandError(50, "operation exceeded time limit") from None

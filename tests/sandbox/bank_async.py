"""The bank run's asyncio task group: the same transfers as bank_workload's threads, on
one AsyncMongoClient (with_transaction in one task, label-keyed retries in the other)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError, PyMongoError

from .bank_faults import APP, DB, Progress, Seen
from .bank_workload import MAX_ATTEMPTS, MAX_COMMITS, Tally, Transfer, backoff, check_updates


async def _statements(client: AsyncMongoClient, session: Any, t: Transfer) -> None:
    db = client[DB]
    r1 = await db.accounts.update_one({"_id": t.src}, {"$inc": {"bal": -t.amount}}, session=session)
    r2 = await db.accounts.update_one({"_id": t.dst}, {"$inc": {"bal": t.amount}}, session=session)
    check_updates(r1, r2)
    await db.ledger.insert_one(t.ledger_entry(), session=session)


async def _settle_commit(session: Any, tally: Tally) -> bool:
    """Ask again until the commit's outcome is known: True committed, False aborted."""
    for _ in range(MAX_COMMITS):
        try:
            await session.commit_transaction()
            return True
        except PyMongoError as exc:
            if exc.has_error_label("TransientTransactionError"):
                return False
            if not exc.has_error_label("UnknownTransactionCommitResult"):
                tally.note("odd_commit_errors", exc)
            tally.add("commit_retries")
    raise AssertionError("a commit's outcome stayed unknown")


class _Statements:
    """with_transaction's callback (see bank_workload.Statements)."""

    def __init__(self, client: AsyncMongoClient, t: Transfer, tally: Tally) -> None:
        self.client, self.t, self.tally = client, t, tally
        self.committing = False

    async def __call__(self, session: Any) -> None:
        self.committing = False
        self.tally.add("txn_attempts")
        await _statements(self.client, session, self.t)
        self.committing = True


async def _with_transaction(client: AsyncMongoClient, t: Transfer, tally: Tally) -> bool:
    for _ in range(MAX_ATTEMPTS):
        async with client.start_session() as session:
            callback = _Statements(client, t, tally)
            try:
                await session.with_transaction(callback)
                return True
            except DuplicateKeyError:
                return False
            except PyMongoError as exc:
                if not callback.committing:
                    tally.note("statement_errors", exc)
                    continue
                if await _settle_commit(session, tally):
                    return True
    raise AssertionError(f"transfer {t.tid} never committed")


async def _by_hand(client: AsyncMongoClient, t: Transfer, tally: Tally, rng: random.Random) -> bool:
    async with client.start_session() as session:
        for attempt in range(MAX_ATTEMPTS):
            tally.add("txn_attempts")
            await session.start_transaction()
            try:
                await _statements(client, session, t)
            except DuplicateKeyError:
                await session.abort_transaction()
                return False
            except PyMongoError as exc:
                if session.in_transaction:
                    await session.abort_transaction()
                if not exc.has_error_label("TransientTransactionError"):
                    tally.note("statement_errors", exc)
                await asyncio.sleep(backoff(rng, attempt))
                continue
            if await _settle_commit(session, tally):
                return True
            await asyncio.sleep(backoff(rng, attempt))
    raise AssertionError(f"transfer {t.tid} never committed")


async def _worker(
    client: AsyncMongoClient,
    transfers: list[Transfer],
    by_hand: bool,
    tally: Tally,
    progress: Progress,
) -> None:
    rng = random.Random(transfers[0].tid if transfers else 0)
    try:
        for t in transfers:
            if by_hand:
                tally.record(t, await _by_hand(client, t, tally, rng))
            else:
                tally.record(t, await _with_transaction(client, t, tally))
            progress.tick()
            try:
                await client[DB].counter.update_one({"_id": "n"}, {"$inc": {"n": 1}})
            except PyMongoError as exc:
                tally.note("inc_unknown", exc)
            else:
                tally.add("inc_acked")
            progress.tick()
    finally:
        progress.worker_done()


def task_group(
    uri: str,
    seen: Seen,
    plans: list[tuple[list[Transfer], bool]],
    tally: Tally,
    progress: Progress,
) -> None:
    """Run on a thread of its own: one asyncio task group of transfer workers."""

    async def main() -> None:
        client: AsyncMongoClient = AsyncMongoClient(uri, appname=APP, event_listeners=[seen])
        try:
            async with asyncio.TaskGroup() as group:
                for transfers, by_hand in plans:
                    group.create_task(_worker(client, transfers, by_hand, tally, progress))
        finally:
            await client.close()

    asyncio.run(main())

"""A small application that goes through the proxy: two conflicting transactions, a
retryable write that the driver retries, and a with_transaction that retries its callback.

Everything runs on one thread in a fixed order, so a capture of it replays the same way.
`python -m tests.proxy.sample_app URI` runs it (the README's walk-through). The retryable
write uses the failCommand fail point: the upstream must be a sandbox or a mongod started
with enableTestCommands.
"""

from __future__ import annotations

import sys
from typing import Any

from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import OperationFailure

DB = "proxyapp"
ACCOUNTS = [{"_id": 1, "balance": 100}, {"_id": 2, "balance": 50}]
# The driver retries a write that fails with a retryable error once (Retryable Writes
# specification); failCommand gives the first attempt one.
RETRYABLE = {
    "configureFailPoint": "failCommand",
    "mode": {"times": 1},
    "data": {"failCommands": ["insert"], "errorCode": 91, "errorLabels": ["RetryableWriteError"]},
}


def run_sync(uri: str, app: str = "sample-sync") -> dict[str, Any]:
    seen: dict[str, Any] = {}
    client: MongoClient = MongoClient(uri, appName=app, serverSelectionTimeoutMS=10_000)
    try:
        coll = client[DB].accounts
        coll.drop()
        coll.insert_many(ACCOUNTS)
        a, b = client.start_session(), client.start_session()
        a.start_transaction()
        b.start_transaction()
        coll.update_one({"_id": 1}, {"$inc": {"balance": -10}}, session=a)
        try:
            coll.update_one({"_id": 1}, {"$inc": {"balance": 5}}, session=b)
        except OperationFailure as exc:
            seen["conflict"] = (exc.code, exc.has_error_label("TransientTransactionError"))
        a.commit_transaction()
        b.abort_transaction()
        client.admin.command(RETRYABLE)
        coll.insert_one({"_id": 3, "balance": 7})
        c, d = client.start_session(), client.start_session()
        d.start_transaction()
        coll.update_one({"_id": 2}, {"$inc": {"balance": 1}}, session=d)
        attempts: list[int] = []

        def callback(session: Any) -> None:
            attempts.append(1)
            if len(attempts) == 2:
                d.commit_transaction()  # lets the retry through
            coll.update_one({"_id": 2}, {"$inc": {"balance": 100}}, session=session)

        c.with_transaction(callback)
        seen["attempts"] = len(attempts)
        for s in (a, b, c, d):
            s.end_session()
        seen["docs"] = list(coll.find({}, sort=[("_id", 1)]))
    finally:
        client.close()
    return seen


async def run_async(uri: str, app: str = "sample-async") -> dict[str, Any]:
    seen: dict[str, Any] = {}
    client: AsyncMongoClient = AsyncMongoClient(uri, appName=app, serverSelectionTimeoutMS=10_000)
    try:
        coll = client[DB].accounts_async
        await coll.drop()
        await coll.insert_many(ACCOUNTS)
        a, b = client.start_session(), client.start_session()
        await a.start_transaction()
        await b.start_transaction()
        await coll.update_one({"_id": 1}, {"$inc": {"balance": -10}}, session=a)
        try:
            await coll.update_one({"_id": 1}, {"$inc": {"balance": 5}}, session=b)
        except OperationFailure as exc:
            seen["conflict"] = (exc.code, exc.has_error_label("TransientTransactionError"))
        await a.commit_transaction()
        await b.abort_transaction()
        await client.admin.command(RETRYABLE)
        await coll.insert_one({"_id": 3, "balance": 7})
        c, d = client.start_session(), client.start_session()
        await d.start_transaction()
        await coll.update_one({"_id": 2}, {"$inc": {"balance": 1}}, session=d)
        attempts: list[int] = []

        async def callback(session: Any) -> None:
            attempts.append(1)
            if len(attempts) == 2:
                await d.commit_transaction()
            await coll.update_one({"_id": 2}, {"$inc": {"balance": 100}}, session=session)

        await c.with_transaction(callback)
        seen["attempts"] = len(attempts)
        for s in (a, b, c, d):
            await s.end_session()
        seen["docs"] = await coll.find({}, sort=[("_id", 1)]).to_list()
    finally:
        await client.close()
    return seen


if __name__ == "__main__":
    print(run_sync(sys.argv[1] if len(sys.argv) > 1 else "mongodb://127.0.0.1:27018/"))

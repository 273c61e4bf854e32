"""A small sample application for the live view's tests, run through the real proxy: what
issue 12's tests ask for, two conflicting transactions, a retryable write retried by the
driver, and a with_transaction retry."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient
from pymongo.errors import OperationFailure


def fail_once(client: MongoClient, command: str, **data: Any) -> None:
    """The sandbox's failCommand fail point, for one command."""
    client.admin.command(
        {
            "configureFailPoint": "failCommand",
            "mode": {"times": 1},
            "data": {"failCommands": [command], **data},
        }
    )


def sample_app(app_uri: str, setup_uri: str) -> dict[str, Any]:
    """Runs the sample application's "shop" and "billing" clients at `app_uri` (the proxy)
    and returns what they saw: two transactions conflicting on one document (the second
    gets a WriteConflict and aborts; the first commits), a retryable insert whose first
    attempt loses its connection, and a with_transaction whose first run conflicts and
    second commits. Its setup (the documents, the fail point) goes to `setup_uri`."""
    seen: dict[str, Any] = {}
    setup = MongoClient(setup_uri, serverSelectionTimeoutMS=10_000)
    try:
        setup.shop.orders.drop()
        setup.shop.orders.insert_many([{"_id": 1, "qty": 0}, {"_id": 2, "qty": 0}])
        shop = MongoClient(app_uri, appname="shop", serverSelectionTimeoutMS=10_000)
        billing = MongoClient(app_uri, appname="billing", serverSelectionTimeoutMS=10_000)
        orders_a, orders_b = shop.shop.orders, billing.shop.orders
        try:
            # Two transactions write _id 1: the second one conflicts.
            with shop.start_session() as a, billing.start_session() as b:
                a.start_transaction()
                orders_a.update_one({"_id": 1}, {"$inc": {"qty": 1}}, session=a)
                b.start_transaction()
                try:
                    orders_b.update_one({"_id": 1}, {"$inc": {"qty": 10}}, session=b)
                except OperationFailure as exc:
                    seen["conflict"] = exc.code
                b.abort_transaction()
                a.commit_transaction()
            # A retryable write: the first attempt's connection is closed, pymongo retries.
            fail_once(setup, "insert", closeConnection=True, appName="shop")
            orders_a.insert_one({"_id": 3, "qty": 5})
            # with_transaction: its first run conflicts with an open transaction; the retry
            # commits that one first, then runs again and commits.
            holder = shop.start_session()
            holder.start_transaction()
            orders_a.update_one({"_id": 2}, {"$inc": {"qty": 1}}, session=holder)
            runs: list[int] = []

            def callback(session: Any) -> None:
                runs.append(1)
                if len(runs) == 2:
                    holder.commit_transaction()
                orders_b.update_one({"_id": 2}, {"$inc": {"qty": 100}}, session=session)

            with billing.start_session() as c:
                c.with_transaction(callback)
            holder.end_session()
            seen["runs"] = len(runs)
        finally:
            shop.close()  # endSessions for the pooled sessions
            billing.close()
    finally:
        setup.close()
    return seen

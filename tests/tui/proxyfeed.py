"""Real application traffic for the live view's tests: pymongo clients against the sandbox
whose command monitoring is turned into ProxyRecords, as the proxy would hand them over
(the same commands, the same replies, on the client's own threads), and a small sample
application that does what issue 12's tests ask: two conflicting transactions, a
retryable write retried by the driver, and a with_transaction retry."""

from __future__ import annotations

import threading
import time
from typing import Any

from pymongo import MongoClient, monitoring
from pymongo.errors import OperationFailure

from mongotx_tui.model.proxy_records import ConnectionNotice, ProxyObserver, ProxyRecord


class Feed(monitoring.CommandListener):
    """Turns one client's command events into ProxyRecords for an observer."""

    def __init__(self, observer: ProxyObserver, app_name: str, conn_id: int) -> None:
        self.observer = observer
        self.app_name = app_name
        self.conn_id = conn_id
        self._open: dict[tuple[Any, int], ProxyRecord] = {}
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        record = ProxyRecord(
            seq=0,
            at=time.time(),
            name=event.command_name,
            database=event.database_name,
            command=dict(event.command),
            conn_id=self.conn_id,
            peer=f"127.0.0.1:{40000 + self.conn_id}",
            app_name=self.app_name,
        )
        with self._lock:
            self._open[(event.connection_id, event.request_id)] = record
        self.observer.command(record)

    def _done(self, event: Any, reply: dict[str, Any] | None, failure: str) -> None:
        with self._lock:
            record = self._open.pop((event.connection_id, event.request_id), None)
        if record is None:
            return
        record.reply = reply
        record.failure = failure
        record.duration_ms = event.duration_micros / 1000
        self.observer.reply(record)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event, dict(event.reply), "")

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        details = getattr(event.failure, "get", None)
        if callable(details) and "ok" in event.failure:
            self._done(event, dict(event.failure), "")
        else:
            self._done(event, None, "connection closed")


def watched_client(uri: str, observer: ProxyObserver, app_name: str, conn_id: int) -> MongoClient:
    """A client of the sample application whose traffic the observer sees."""
    observer.connection(ConnectionNotice(conn_id, "open", f"127.0.0.1:{40000 + conn_id}"))
    return MongoClient(
        uri,
        appname=app_name,
        event_listeners=[Feed(observer, app_name, conn_id)],
        serverSelectionTimeoutMS=10_000,
    )


def fail_once(client: MongoClient, command: str, **data: Any) -> None:
    """The sandbox's failCommand fail point, for one command."""
    client.admin.command(
        {
            "configureFailPoint": "failCommand",
            "mode": {"times": 1},
            "data": {"failCommands": [command], **data},
        }
    )


def sample_app(uri: str, observer: ProxyObserver) -> dict[str, Any]:
    """Runs the sample application ("shop" and "billing" clients) and returns what it
    saw: two transactions conflicting on one document (the second gets a WriteConflict and
    aborts; the first commits), a retryable insert whose first attempt loses its
    connection, and a with_transaction whose first run conflicts and second commits."""
    seen: dict[str, Any] = {}
    setup = MongoClient(uri, serverSelectionTimeoutMS=10_000)
    try:
        setup.shop.orders.drop()
        setup.shop.orders.insert_many([{"_id": 1, "qty": 0}, {"_id": 2, "qty": 0}])
        shop = watched_client(uri, observer, "shop", 1)
        billing = watched_client(uri, observer, "billing", 2)
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
            fail_once(setup, "insert", closeConnection=True)
            orders_a.insert_one({"_id": 3, "qty": 5})
            # with_transaction: its first run conflicts with an open transaction, the retry
            # waits until that one commits, then commits.
            holder = shop.start_session()
            holder.start_transaction()
            orders_a.update_one({"_id": 2}, {"$inc": {"qty": 1}}, session=holder)
            runs: list[int] = []

            def callback(session: Any) -> None:
                runs.append(1)
                if len(runs) == 2:  # the retry runs once the holder has committed
                    holder.commit_transaction()
                orders_b.update_one({"_id": 2}, {"$inc": {"qty": 100}}, session=session)

            with billing.start_session() as c:
                c.with_transaction(callback)
            holder.end_session()
            seen["runs"] = len(runs)
        finally:
            shop.close()  # endSessions for the pooled sessions
            billing.close()
            observer.connection(ConnectionNotice(1, "closed"))
            observer.connection(ConnectionNotice(2, "closed"))
    finally:
        setup.close()
    return seen

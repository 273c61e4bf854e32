"""A retryable read the driver sends again through the proxy: two attempts of one
statement, as a retried write is (issue 12: driver retries as attempts)."""

from __future__ import annotations

from pymongo import MongoClient

from mongotx_tui.backend.proxy import ProxyHandle
from mongotx_tui.backend.proxy.collect import Collector

APP = "read-retries"


def _finds(collector: Collector) -> list:
    return [r for r in collector.records() if r.app_name == APP and r.name == "find"]


def test_a_read_retried_by_the_driver_is_attempt_2_of_its_statement(
    proxy: ProxyHandle, collector: Collector
) -> None:
    with MongoClient(proxy.app_uri(), appname=APP) as client:
        coll = client.proxyreads.accounts
        coll.drop()
        coll.insert_one({"_id": 1, "balance": 10})
        # The first attempt loses its connection; the driver retries the read once
        # [manual: Retryable Reads].
        client.admin.command(
            "configureFailPoint",
            "failCommand",
            mode={"times": 1},
            data={"failCommands": ["find"], "closeConnection": True, "appName": APP},
        )
        assert coll.find_one({"_id": 1}) == {"_id": 1, "balance": 10}
        proxy.flush()
        first, retry = _finds(collector)
        assert (first.attempt, retry.attempt) == (1, 2)
        assert first.failure and retry.ok
        assert first.step_id == retry.step_id and first.lsid == retry.lsid


def test_the_same_read_sent_again_after_it_succeeded_is_a_new_statement(
    proxy: ProxyHandle, collector: Collector
) -> None:
    with MongoClient(proxy.app_uri(), appname=APP) as client:
        coll = client.proxyreads.accounts
        with client.start_session() as session:  # one lsid for both reads
            coll.find_one({"_id": 1}, session=session)
            coll.find_one({"_id": 1}, session=session)
        proxy.flush()
        first, again = _finds(collector)
        assert first.lsid == again.lsid
        assert (first.attempt, again.attempt) == (1, 1)
        assert first.step_id != again.step_id

"""The test fail points of prepared-transaction jstests, configureFailPoint's `count` and
waitForFailPoint [srv:db/commands/fail_point_cmd.cpp; db/catalog/create_collection.cpp
hangAndFailAfterCreateCollectionReservesOpTime; db/service_entry_point_common.cpp
waitAfterNewStatementBlocksBehindPrepare]."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

HANG = "hangAndFailAfterCreateCollectionReservesOpTime"


def _configure(client: MongoClient, mode: Any, **data: Any) -> dict[str, Any]:
    return client.admin.command({"configureFailPoint": HANG, "mode": mode, "data": data})


def test_create_hangs_then_fails_and_wait_for_fail_point_sees_it(
    client: MongoClient, uri: str
) -> None:
    client.test.drop_collection("hung")
    count = _configure(client, "alwaysOn", nss="test.hung")["count"]
    outcome: dict[str, Any] = {}

    def create() -> None:
        with MongoClient(uri) as other:
            try:
                other.test.create_collection("hung")
            except OperationFailure as exc:
                outcome["code"] = exc.code

    thread = threading.Thread(target=create)
    thread.start()
    wait = {"waitForFailPoint": HANG, "timesEntered": count + 1, "maxTimeMS": 30000}
    assert client.admin.command(wait)["ok"] == 1
    assert "code" not in outcome  # still hanging
    assert _configure(client, "off")["count"] == count + 1
    thread.join()
    assert outcome["code"] == 51267
    assert "hung" not in client.test.list_collection_names()
    # Another namespace is not held.
    _configure(client, "alwaysOn", nss="test.hung")
    client.test.drop_collection("free")
    client.test.create_collection("free")
    _configure(client, "off")


def test_wait_for_fail_point_times_out(client: MongoClient) -> None:
    count = _configure(client, "off")["count"]
    wait = {"waitForFailPoint": HANG, "timesEntered": count + 1, "maxTimeMS": 50}
    with pytest.raises(OperationFailure) as info:
        client.admin.command(wait)
    assert info.value.code == 50
    with pytest.raises(OperationFailure) as info:
        client.admin.command({"waitForFailPoint": "noSuch", "timesEntered": 1, "maxTimeMS": 50})
    assert info.value.code == 2

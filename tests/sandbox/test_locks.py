"""DDL behind an open transaction (manual: "Pending DDL Operations and Transactions")."""

from __future__ import annotations

import threading
import time

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure


def test_drop_waits_and_blocks_newcomers(client: MongoClient, coll, uri: str) -> None:  # type: ignore[no-untyped-def]
    coll.insert_many([{"_id": 1}, {"_id": 2}])
    results: dict[str, object] = {}
    with client.start_session() as reader:
        reader.start_transaction()
        assert coll.find_one({"_id": 1}, session=reader) is not None  # only a read: IS lock

        def drop() -> None:
            with MongoClient(uri) as other:
                t0 = time.monotonic()
                other.test.drop_collection(coll.name)
                results["drop_waited"] = time.monotonic() - t0

        dropper = threading.Thread(target=drop)
        dropper.start()
        time.sleep(0.3)
        assert dropper.is_alive(), "drop must wait for the transaction that used the collection"

        # A new transaction's first use of the collection times out on the pending lock.
        with client.start_session() as late:
            late.start_transaction()
            with pytest.raises(OperationFailure) as info:
                coll.find_one({"_id": 2}, session=late)
            assert info.value.code == 24
            assert info.value.has_error_label("TransientTransactionError")

        # An outside read waits for the drop (its maxTimeMS runs out first here).
        with pytest.raises(OperationFailure) as waited:
            coll.database.command("find", coll.name, maxTimeMS=200)
        assert waited.value.code == 50

        # The reader still holds its lock and can go on, then commit.
        assert coll.find_one({"_id": 2}, session=reader) is not None
        reader.commit_transaction()
    dropper.join(5)
    assert not dropper.is_alive() and results["drop_waited"] >= 0.3
    assert coll.name not in coll.database.list_collection_names()

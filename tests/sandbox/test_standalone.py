"""`replset=None`: the sandbox as a standalone server, where transactions are refused."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from mongotx_sandbox import ThreadedSandbox


def test_standalone_refuses_transactions_but_serves_crud() -> None:
    with ThreadedSandbox(replset=None) as uri:
        assert "replicaSet" not in uri
        with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
            hello = client.admin.command("hello")
            assert "setName" not in hello and hello["isWritablePrimary"] is True
            assert "$clusterTime" not in client.admin.command("ping")
            coll = client.test.standalone
            coll.insert_one({"_id": 1, "n": 1})  # plain CRUD works
            assert coll.find_one({"_id": 1})["n"] == 1
            with client.start_session() as s:
                s.start_transaction()
                with pytest.raises(OperationFailure) as info:
                    coll.insert_one({"_id": 2}, session=s)
                assert info.value.code == 20
                assert "replica set member or mongos" in str(info.value)
            with pytest.raises(OperationFailure) as stream:
                coll.watch().try_next()
            assert stream.value.code == 40573

"""`SandboxServer(handler=…)`: the server loop answers every request with the handler it is
given (the seam a proxy or fault injection plugs into); the default is the sandbox's own."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from mongotx_sandbox import ThreadedSandbox, dispatch
from mongotx_sandbox.connections import Connection
from mongotx_sandbox.errors import CommandError
from mongotx_sandbox.state import ServerState
from mongotx_sandbox.wire import Request


def test_a_given_handler_sees_each_request_and_its_connection() -> None:
    seen: list[tuple[str, int]] = []

    async def recording(
        state: ServerState, conn: Connection, req: Request
    ) -> dict[str, Any] | None:
        seen.append((next(iter(req.body)), conn.id))
        return await dispatch.handle(state, conn, req)

    with (
        ThreadedSandbox(handler=recording) as uri,
        MongoClient(uri, serverSelectionTimeoutMS=5000, appname="seam") as client,
    ):
        client.test.seam.insert_one({"_id": 1})
        assert client.test.seam.find_one() == {"_id": 1}
        ids = {conn_id for name, conn_id in seen if name in ("insert", "find")}
        assert len(ids) == 1  # one pooled connection served both
        status = client.admin.command("serverStatus")
        assert status["connections"]["current"] >= 1
    names = [name for name, _ in seen]
    assert "insert" in names and "find" in names and "serverStatus" in names


def test_a_handler_can_answer_in_place_of_the_sandbox() -> None:
    async def no_drops(state: ServerState, conn: Connection, req: Request) -> dict[str, Any] | None:
        if "drop" in req.body:
            return CommandError(13, "drop refused by this handler").to_reply()
        return await dispatch.handle(state, conn, req)

    with (
        ThreadedSandbox(handler=no_drops) as uri,
        MongoClient(uri, serverSelectionTimeoutMS=5000) as client,
    ):
        client.test.kept.insert_one({"_id": 1})
        with pytest.raises(OperationFailure) as info:
            client.test.kept.drop()
        assert info.value.code == 13 and "refused by this handler" in str(info.value)
        assert client.test.kept.count_documents({}) == 1
